"""Make the monthly reports of every active commission now (what beat does on the 1st)."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from reports.models import ArchivedReport, ReportFile
from reports.tasks import make_monthly_reports


class Command(BaseCommand):
    help = "Make the monthly report of every active health commission (figures, PDF, XLSX)."

    def add_arguments(self, parser):
        parser.add_argument("--period", help="The month reported on, YYYY-MM (default: the "
                                             "month just ended).")

    def handle(self, *args, period: str | None = None, **options):
        if period:
            try:
                month = date.fromisoformat(f"{period}-01")
            except ValueError as exc:
                raise CommandError("--period: a month as YYYY-MM, e.g. 2026-10") from exc
            period = month.isoformat()
        sent = make_monthly_reports(period)
        reports = ArchivedReport.objects.filter(kind="monthly")
        if period:
            reports = reports.filter(period=period)
        files = ReportFile.objects.filter(report__in=reports)
        self.stdout.write(
            f"{sent} commissions; {reports.count()} monthly reports; files: "
            + ", ".join(f"{status} {files.filter(status=status).count()}"
                        for status in ("done", "queued", "running", "failed"))
        )
        failed = files.filter(status="failed").first()
        if failed is not None:
            raise CommandError(f"A report file failed: {failed.error}")
