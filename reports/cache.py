"""Cached report figures: a jurisdiction's figures are counted once and served from the
cache until something they count changes.

The key is the SQL that selects the report's assets (so the user's scope and the filters
are part of it by construction), the drill-down level, the language and a stamp of what
else the figures depend on: the catalog's generation (``catalog.freshness``: assets,
grants, roles, accounts), the last finished run (findings change only in runs), the last
change to a rights allocation, and today's date (what "expiring within 30 days" means).
``REPORT_CACHE_SECONDS`` bounds how long an entry lives regardless; 0 turns the cache off.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db.models import Max
from django.utils import timezone, translation

from catalog import freshness
from inventory.choices import RunStatus
from inventory.models import Run
from rights.models import RightsAllocation

from .figures import NEXT_REGION_COLUMN, Report, build_report, drill_base, scoped_assets


def stamp() -> str:
    runs = Run.objects.filter(status=RunStatus.SUCCEEDED).aggregate(
        last=Max("finished_at"), top=Max("id"))
    allocations = RightsAllocation.history.aggregate(top=Max("history_id"))
    return "|".join(str(part) for part in (
        freshness.generation(), runs["top"], runs["last"], allocations["top"],
        timezone.localdate(),
    ))


def report_figures(user, filters: dict) -> Report:
    """``build_report(user, filters)``: summed from the latest counting of the catalog when
    one is recent enough (``reports.rollup``), else from the cache when it is still true."""
    from . import rollup

    made = rollup.usable_build(user, filters)
    if made is not None:
        base = drill_base(user, filters.get("region"))
        column = NEXT_REGION_COLUMN[base.level if base else None]
        counted = rollup.counts(made, user, filters, column)
        report = build_report(user, filters, counts=counted)
        report.as_of = made.started_at
        return report
    seconds = settings.REPORT_CACHE_SECONDS
    if not seconds:
        return build_report(user, filters)
    try:
        sql, params = scoped_assets(user, filters).query.sql_with_params()
    except EmptyResultSet:
        return build_report(user, filters)
    base = drill_base(user, filters.get("region"))
    text = "|".join([
        stamp(), translation.get_language() or "", base.code if base else "-", sql, repr(params),
    ])
    key = "reports:figures:" + hashlib.sha256(text.encode()).hexdigest()
    found = cache.get(key)
    if found is None:
        found = build_report(user, filters)
        cache.set(key, found, seconds)
    return found
