"""The report archive: reports kept with their figures, and the files made of them.

An archived report keeps the snapshot of its figures (``reports.snapshot``), so it reads and
compares the same however the catalog changes afterwards; its files (CSV, XLSX, PDF) are
produced in the background and kept in the ``reports`` storage until the report expires.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Institution
from accounts.scoping import Action
from inventory.models import JurisdictionScoped, ScopedQuerySet

from .choices import ACTIVE_FILE_STATUSES, ExportFormat, FileStatus, ReportKind


class ArchivedReportQuerySet(ScopedQuerySet):
    def restrict(self, user, action: Action = Action.REPORT) -> ArchivedReportQuerySet:
        """Reports whose whole scope lies in the user's report jurisdiction: the monthly
        ones, and those the user asked for."""
        return super().restrict(user, action).filter(
            Q(kind=ReportKind.MONTHLY) | Q(requested_by=user.pk)
        )


class ArchivedReport(JurisdictionScoped):
    kind = models.CharField(_("kind"), max_length=20, choices=ReportKind.choices)
    # Monthly reports: the month reported on (its first day) and the commission it is for.
    period = models.DateField(_("month"), null=True, blank=True)
    commission = models.ForeignKey(
        Institution, models.CASCADE, null=True, blank=True, related_name="+",
        verbose_name=_("health commission"),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, null=True, blank=True, related_name="+",
        verbose_name=_("requested by"),
    )
    # The filters as query values ({"grade": 4, "region": "330100"}), to make the files with.
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    snapshot = models.JSONField(_("figures"), default=dict)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("kept until"), db_index=True)

    objects = ArchivedReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("archived report")
        verbose_name_plural = _("archived reports")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["commission", "period"], condition=Q(kind=ReportKind.MONTHLY),
                name="reports_one_monthly_report_per_commission",
            ),
        ]
        indexes = [models.Index(fields=["kind", "-period"], name="reports_kind_period")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.scope_name} · {self.title_date}"

    @property
    def title_date(self) -> str:
        if self.period:
            return self.period.strftime("%Y-%m")
        return self.created_at.strftime("%Y-%m-%d %H:%M") if self.created_at else ""

    def get_absolute_url(self) -> str:
        return reverse("reports:archived", args=[self.pk])


class ReportFile(models.Model):
    report = models.ForeignKey(
        ArchivedReport, models.CASCADE, related_name="files", verbose_name=_("report")
    )
    format = models.CharField(_("format"), max_length=10, choices=ExportFormat.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=FileStatus.choices, default=FileStatus.QUEUED
    )
    rows_total = models.BigIntegerField(_("rows to write"), default=0)
    rows_done = models.BigIntegerField(_("rows written"), default=0)
    # Where the file lies in the "reports" storage (empty until it is done).
    path = models.CharField(max_length=255, blank=True)
    size = models.BigIntegerField(_("size in bytes"), default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("report file")
        verbose_name_plural = _("report files")
        constraints = [
            models.UniqueConstraint(
                fields=["report", "format"], name="reports_one_file_per_format"
            ),
        ]
        indexes = [
            models.Index(fields=["status"], name="reports_file_active",
                         condition=Q(status__in=ACTIVE_FILE_STATUSES)),
        ]

    def __str__(self) -> str:
        return f"{self.report} · {self.get_format_display()}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_FILE_STATUSES

    @property
    def percent(self) -> int:
        if self.status == FileStatus.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(99, int(100 * self.rows_done / self.rows_total))

    @property
    def filename(self) -> str:
        """The name the download is saved under."""
        report = self.report
        kind = _("Monthly report") if report.kind == ReportKind.MONTHLY else _("Inventory report")
        stamp = report.title_date.replace(":", "").replace(" ", "-")
        return f"{kind}-{report.scope_name}-{stamp}.{self.format}"


class RollupBuild(models.Model):
    """One counting of the whole catalog into :class:`FigureCount` rows (``reports.rollup``)."""

    started_at = models.DateTimeField(_("counted as of"))
    finished_at = models.DateTimeField(null=True, blank=True)
    # What the counts depended on when they were made (``reports.cache.stamp``).
    stamp = models.CharField(max_length=200, blank=True)
    rows = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("report figures counting")
        verbose_name_plural = _("report figures countings")

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M}"


class FigureCount(models.Model):
    """How many assets of one region (the assets' own region, with its city and province
    copied like an asset's) have one value of one breakdown, as of a build."""

    build = models.ForeignKey(RollupBuild, models.CASCADE, related_name="+", db_index=False)
    region = models.ForeignKey(
        "accounts.Region", models.DO_NOTHING, null=True, related_name="+", db_constraint=False,
        db_index=False,
    )
    region_city = models.ForeignKey(
        "accounts.Region", models.DO_NOTHING, null=True, related_name="+", db_constraint=False,
        db_index=False,
    )
    region_province = models.ForeignKey(
        "accounts.Region", models.DO_NOTHING, null=True, related_name="+", db_constraint=False,
        db_index=False,
    )
    dimension = models.CharField(max_length=20)
    value = models.CharField(max_length=60, blank=True)
    count = models.BigIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["build", "region_province", "dimension"],
                         name="reports_figures_province"),
        ]

    def __str__(self) -> str:
        return f"{self.region_id} {self.dimension}={self.value}: {self.count}"
