"""A report's figures as plain data (JSON): what the charts draw, what the PDF and the
XLSX summary print, what the archive keeps and what two archived reports are compared by.

A monthly report's snapshot also has a ``title`` (its PDF's heading). Labels are written in
the language active when the snapshot is taken, so an archived report
reads as it did the day it was made. ``SNAPSHOT_VERSION`` changes when the shape does.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from .figures import Report

SNAPSHOT_VERSION = 1


def scope_label(region) -> str:
    return region.name if region is not None else _("Nationwide")


def take_snapshot(report: Report, *, scope=None, filter_labels: list | None = None) -> dict:
    """``report`` as JSON-ready data.

    ``scope`` is the region the report covers (None: the user's whole reach, or the country);
    ``filter_labels`` the chosen filters as (label, value label) pairs, for the reader.
    """
    return {
        "version": SNAPSHOT_VERSION,
        "generated_at": timezone.now().isoformat(),
        # When the asset figures were counted, when earlier (``reports.rollup``).
        "as_of": report.as_of.isoformat() if report.as_of else None,
        "scope": {
            "code": scope.code if scope is not None else None,
            "name": scope_label(scope),
        },
        "filters": [[str(label), str(value)] for label, value in (filter_labels or [])],
        "total": report.total,
        "breakdowns": [
            {
                "key": breakdown.key,
                "label": breakdown.label,
                "rows": [
                    {"value": row.value, "label": row.label, "count": row.count,
                     "drill": row.drill}
                    for row in breakdown.rows
                ],
            }
            for breakdown in report.ordered_breakdowns
        ],
        "findings": [
            {"rule": row.rule, "label": str(row.label), "severity": int(row.severity),
             "severity_label": str(row.severity.label), "count": row.count}
            for row in report.findings
        ],
        "findings_total": report.findings_total,
        "stale_institutions": [
            {"value": row.value, "label": row.label, "count": row.count}
            for row in report.stale_institutions
        ],
        "without_holder": report.without_holder,
        "grants_expiring": report.grants_expiring,
        # Oldest first: the order a trend is read in.
        "runs": [
            {
                "id": row.run.pk,
                "kind": row.run.kind,
                "kind_label": str(row.run.get_kind_display()),
                "scope_name": str(row.run.scope_name),
                "finished_at": row.run.finished_at.isoformat() if row.run.finished_at else None,
                "found": row.found,
                "new": row.new,
                "resolved": row.resolved,
            }
            for row in reversed(report.runs)
        ],
        "registered_by_month": [
            {"value": row.value, "label": row.label, "count": row.count}
            for row in report.registered_by_month
        ],
    }
