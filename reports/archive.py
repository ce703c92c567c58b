"""The report archive: asking for a file, producing it, the monthly reports, tidying up.

A file is asked for by a user (an export of the report in front of them) or by the monthly
schedule; either way an :class:`ArchivedReport` keeps the figures as they were, and each of
its :class:`ReportFile` rows is produced by a background job (in-process in the embedded
default) that writes to a temporary file and stores it only when it is whole.
"""

from __future__ import annotations

import logging
import tempfile
from datetime import date, timedelta

from django.conf import settings
from django.core.files import File
from django.core.files.storage import storages
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.choices import InstitutionType
from accounts.models import Institution, Region
from accounts.scoping import Action, reach
from audit import recorder
from audit.models import AuditAction
from catalog.pdf_fonts import FontUnavailable

from .cache import report_figures
from .choices import ACTIVE_FILE_STATUSES, ExportFormat, FileStatus, ReportKind
from .exports import WRITERS, ExportSource
from .figures import drill_base, scoped_assets
from .models import ArchivedReport, ReportFile
from .snapshot import take_snapshot

log = logging.getLogger(__name__)

MONTHLY_FORMATS = (ExportFormat.PDF, ExportFormat.XLSX)


def archive_storage():
    return storages["reports"]


# --- Filters as stored ----------------------------------------------------------------------


def stored_filters(filters: dict) -> dict:
    """The validated filters as JSON (the region as its code)."""
    return {
        name: (value.code if isinstance(value, Region) else value)
        for name, value in filters.items()
    }


def loaded_filters(stored: dict) -> dict:
    """Stored filters back as the report takes them."""
    filters = dict(stored)
    if filters.get("region"):
        filters["region"] = Region.objects.select_related("province", "city").get(
            code=filters["region"])
    return filters


# --- Asking for a file ----------------------------------------------------------------------


def export_scope(user, filters: dict) -> tuple[bool, Region | None]:
    """The region an export of ``user``'s report covers, and whether that one region holds
    the whole report (False: several jurisdictions and no region chosen)."""
    scope = drill_base(user, filters.get("region"))
    if scope is not None:
        return True, scope
    found = reach(user, Action.REPORT)
    return found.everything or (None, None) in found.jurisdictions, None


def request_export(user, filters: dict, format: str, snapshot: dict) -> ReportFile:
    """Archive the report ``user`` is looking at and queue its file in ``format``; a file of
    the same report already being produced for the user is joined instead."""
    whole, scope = export_scope(user, filters)
    if not whole:
        raise ValueError("several jurisdictions: choose a region")
    stored = stored_filters(filters)
    active = ReportFile.objects.filter(
        report__requested_by=user, report__kind=ReportKind.ON_DEMAND, report__filters=stored,
        report__scope=scope, format=format, status__in=ACTIVE_FILE_STATUSES,
    ).select_related("report").first()
    if active is not None:
        return active
    with transaction.atomic():
        report = ArchivedReport(
            kind=ReportKind.ON_DEMAND, scope=scope, requested_by=user, filters=stored,
            snapshot=snapshot,
            expires_at=timezone.now() + timedelta(days=settings.REPORT_ARCHIVE_DAYS),
        )
        report.save()
        return add_file(report, format)


def add_file(report: ArchivedReport, format: str) -> ReportFile:
    """The report's file in ``format``, queued unless it exists already (a failed one is
    queued again)."""
    from .tasks import produce_file

    with transaction.atomic():
        file, created = ReportFile.objects.get_or_create(report=report, format=format)
        if not created and file.status == FileStatus.FAILED:
            ReportFile.objects.filter(pk=file.pk).update(
                status=FileStatus.QUEUED, error="", rows_done=0)
            file.refresh_from_db()
            created = True
        if created:
            produce_file.delay_on_commit(file.pk)
    return file


def record_download(file: ReportFile) -> None:
    """An audit event: who took which report file (an asset list leaves the system). It is
    placed in the report's jurisdiction, where that jurisdiction's auditors read it."""
    report = file.report
    event = recorder.event(
        AuditAction.REPORT_DOWNLOADED, report, before=None,
        after={"format": file.format, "rows": file.rows_total, "filters": report.filters},
        actor=recorder.actor_name(),
    )
    if report.scope_id:
        event.region_id = report.scope_id
        event.region_province_id = report.scope.province_id
        event.region_city_id = report.scope.city_id
    event.save()


# --- Producing it ---------------------------------------------------------------------------


def source_of(report: ArchivedReport) -> ExportSource:
    """The rows of ``report``: through the scoping rule with the requester's reach as it is
    now (a monthly report: its commission's jurisdiction)."""
    user = report.requested_by if report.kind == ReportKind.ON_DEMAND else None
    return ExportSource.of(report.snapshot, scoped_assets(user, loaded_filters(report.filters)))


def produce(file_id: int) -> bool:
    """Write the file and store it; False when there was nothing to do (done already, or
    its report expired meanwhile)."""
    now = timezone.now()
    # Queued, or being produced by a job that is long past its time limit (its worker died).
    claimable = Q(status=FileStatus.QUEUED) | Q(
        status=FileStatus.RUNNING,
        started_at__lt=now - timedelta(seconds=settings.REPORT_FILE_TIME_LIMIT + 60),
    )
    claimed = ReportFile.objects.filter(claimable, pk=file_id).update(
        status=FileStatus.RUNNING, started_at=now, attempts=F("attempts") + 1,
        rows_done=0, error="",
    )
    if not claimed:
        return False
    file = ReportFile.objects.select_related("report", "report__scope").get(pk=file_id)
    try:
        with translation.override(settings.LANGUAGE_CODE):
            _write(file)
    except Exception as exc:
        log.exception("Report file %s failed", file_id)
        # A server that cannot make PDFs says so in words; anything else names the error.
        error = str(exc) if isinstance(exc, FontUnavailable) else f"{type(exc).__name__}: {exc}"
        ReportFile.objects.filter(pk=file_id).update(
            status=FileStatus.FAILED, error=error[:2000],
            finished_at=timezone.now(),
        )
        return False
    return True


def _write(file: ReportFile) -> None:
    source = source_of(file.report)
    total = source.rows_to_write(file.format)
    ReportFile.objects.filter(pk=file.pk).update(rows_total=total)

    def progress(done: int) -> None:
        ReportFile.objects.filter(pk=file.pk).update(rows_done=min(done, total))

    storage = archive_storage()
    with tempfile.TemporaryFile() as scratch:
        WRITERS[file.format](source, scratch, progress)
        size = scratch.tell()
        scratch.seek(0)
        created = file.report.created_at
        name = storage.save(
            f"{created:%Y/%m}/report-{file.report_id}-{file.pk}.{file.format}", File(scratch)
        )
    updated = ReportFile.objects.filter(pk=file.pk, status=FileStatus.RUNNING).update(
        status=FileStatus.DONE, path=name, size=size, rows_done=total,
        finished_at=timezone.now(),
    )
    if not updated:  # removed meanwhile: do not leave the file behind
        storage.delete(name)


# --- Monthly reports ------------------------------------------------------------------------


def previous_month(day: date) -> date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def commissions():
    return Institution.objects.filter(
        type=InstitutionType.HEALTH_COMMISSION, is_active=True
    ).order_by("pk")


def make_monthly_report(commission_id: int, period: date) -> ArchivedReport | None:
    """The monthly report of one commission for ``period`` (made once; a second call finds
    it and queues only what is missing)."""
    commission = Institution.objects.select_related("region__province", "region__city").filter(
        pk=commission_id).first()
    if commission is None:
        return None
    report = ArchivedReport.objects.filter(
        kind=ReportKind.MONTHLY, commission=commission, period=period
    ).first()
    if report is None:
        filters = {"region": commission.region} if commission.region_id else {}
        with translation.override(settings.LANGUAGE_CODE):
            # Summed from the catalog's latest counting when recent (3,000 commissions).
            snapshot = take_snapshot(report_figures(None, filters), scope=commission.region)
            snapshot["title"] = " · ".join(
                [str(_("Monthly report")), snapshot["scope"]["name"], f"{period:%Y-%m}"])
        report = ArchivedReport(
            kind=ReportKind.MONTHLY, period=period, commission=commission,
            scope=commission.region, filters=stored_filters(filters), snapshot=snapshot,
            expires_at=timezone.now() + timedelta(days=settings.REPORT_MONTHLY_ARCHIVE_DAYS),
        )
        try:
            with transaction.atomic():
                report.save()
        except IntegrityError:  # made by a concurrent delivery
            report = ArchivedReport.objects.get(
                kind=ReportKind.MONTHLY, commission=commission, period=period
            )
    for format in MONTHLY_FORMATS:
        add_file(report, format)
    return report


# --- Tidying up -----------------------------------------------------------------------------


def purge_expired(now=None) -> int:
    """Delete the reports past their keeping time, with their files; returns how many."""
    now = now or timezone.now()
    storage = archive_storage()
    expired = list(ArchivedReport.objects.filter(expires_at__lt=now).values_list("pk", flat=True))
    for start in range(0, len(expired), 500):
        batch = expired[start:start + 500]
        paths = list(ReportFile.objects.filter(report_id__in=batch).exclude(path="")
                     .values_list("path", flat=True))
        ArchivedReport.objects.filter(pk__in=batch).delete()
        for path in paths:
            storage.delete(path)
    return len(expired)


def stalled_files(now=None):
    """Files queued or being produced for longer than a job may take: their job was lost."""
    now = now or timezone.now()
    limit = now - timedelta(seconds=settings.REPORT_FILE_TIME_LIMIT + 600)
    return ReportFile.objects.filter(status__in=ACTIVE_FILE_STATUSES).filter(
        created_at__lt=limit
    ).exclude(started_at__gte=limit)
