"""The vocabularies of the report archive."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportKind(models.TextChoices):
    ON_DEMAND = "on_demand", _("Requested")
    MONTHLY = "monthly", _("Monthly report")


class ExportFormat(models.TextChoices):
    CSV = "csv", _("CSV (asset list)")
    XLSX = "xlsx", _("Excel workbook")
    PDF = "pdf", _("PDF summary")


class FileStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Being produced")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


ACTIVE_FILE_STATUSES = (FileStatus.QUEUED, FileStatus.RUNNING)

# What each format is served as.
CONTENT_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.PDF: "application/pdf",
}
