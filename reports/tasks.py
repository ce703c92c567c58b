"""The background jobs of the report archive: produce a file, make the monthly reports,
tidy the archive. Tasks take ids; a file's job that is delivered again after its worker died
starts the file afresh (nothing is stored until it is whole)."""

from __future__ import annotations

import logging
from datetime import date

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import archive

log = logging.getLogger(__name__)


@shared_task(
    acks_late=True, reject_on_worker_lost=True,
    soft_time_limit=settings.REPORT_FILE_TIME_LIMIT,
    time_limit=settings.REPORT_FILE_TIME_LIMIT + 60,
)
def produce_file(file_id: int) -> bool:
    return archive.produce(file_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def make_monthly_reports(period: str | None = None) -> int:
    """What beat calls on the first of each month: one job per active commission for the
    month just ended (``period``: an ISO date of the month to report on)."""
    month = (
        date.fromisoformat(period).replace(day=1) if period
        else archive.previous_month(timezone.localdate())
    )
    ids = list(archive.commissions().values_list("pk", flat=True))
    for commission_id in ids:
        make_monthly_report.delay(commission_id, month.isoformat())
    return len(ids)


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=10 * 60,
             time_limit=11 * 60)
def make_monthly_report(commission_id: int, period: str) -> int | None:
    report = archive.make_monthly_report(commission_id, date.fromisoformat(period))
    return report.pk if report else None


@shared_task(acks_late=True, reject_on_worker_lost=True)
def tidy_archive() -> dict:
    """Delete expired reports; queue again the files whose job was lost."""
    purged = archive.purge_expired()
    requeued = 0
    for file_id in archive.stalled_files().values_list("pk", flat=True):
        produce_file.delay(file_id)
        requeued += 1
    if purged or requeued:
        log.info("Report archive: %s expired reports deleted, %s files queued again",
                 purged, requeued)
    return {"purged": purged, "requeued": requeued}


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=20 * 60,
             time_limit=21 * 60)
def refresh_figures() -> int | None:
    """Count the catalog for the reports again when something changed (beat, every few
    minutes); returns the number of rows counted, None when nothing changed."""
    from . import rollup

    made = rollup.build()
    return made.rows if made else None
