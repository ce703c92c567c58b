"""The report's counts of the whole catalog, made in the background and summed per page.

Counting a million assets by every breakdown takes seconds; summing the same counts kept per
region takes milliseconds. A build counts the catalog once (PostgreSQL, a few set-based
``INSERT … SELECT`` statements) into :class:`FigureCount` rows — per region of the assets,
by breakdown and value, with the current findings, the "stale" findings per institution and
the registered assets without a holding right — and a report of any jurisdiction sums the
rows of its regions, through the same jurisdiction condition as the assets
(``accounts.scoping.reach_q``). Beat rebuilds every few minutes when something changed
(``reports.cache.stamp``); a report is served from a build no older than
``REPORT_ROLLUP_MAX_AGE`` seconds and says as of when; filtered reports (other than by region),
users who also reach assets some other way, and SQLite count live.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import connections, transaction
from django.db.models import CharField, Count, Sum, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from access.models import granted_asset_ids
from accounts.scoping import Action, jurisdiction_q, reach, reach_q
from catalog.models import DataAsset
from inventory.choices import CURRENT_STATUSES, FindingRule
from inventory.models import Finding

from .figures import Counts, without_holder
from .models import FigureCount, RollupBuild

LOCK = 2026_11_24  # pg_advisory_xact_lock key: one build at a time
REGION_COLUMNS = ("region_id", "region_city_id", "region_province_id")

# (dimension, SQL of its value) counted in one pass over the assets joined to their holder
# ("total": every asset of the region).
ASSET_DIMENSIONS = [
    ("total", "''"),
    ("grade", "a.grade::text"),
    ("sharing_type", "a.sharing_type"),
    ("update_frequency", "a.update_frequency"),
    ("status", "a.status"),
    ("security_class", "a.security_class"),
    ("institution_type", "h.type"),
    ("holder", "a.holder_id::text"),
    ("month", "to_char(date_trunc('month', a.registered_at AT TIME ZONE %(zone)s), "
              "'YYYY-MM-DD')"),
]


def latest() -> RollupBuild | None:
    return RollupBuild.objects.filter(finished_at__isnull=False).order_by("-id").first()


def is_postgresql() -> bool:
    return connections["default"].vendor == "postgresql"


# --- Building -------------------------------------------------------------------------------


def build(*, force: bool = False) -> RollupBuild | None:
    """Count the catalog afresh unless nothing changed since the last build (``force``:
    regardless); None when skipped or another build is under way."""
    from .cache import stamp

    if not is_postgresql():
        return None
    current = stamp()
    last = latest()
    if not force and last is not None and last.stamp == current:
        return None
    with transaction.atomic():
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK])
            if not cursor.fetchone()[0]:
                return None
        made = RollupBuild.objects.create(started_at=timezone.now(), stamp=current)
        rows = _count_into(made)
        RollupBuild.objects.filter(pk=made.pk).update(finished_at=timezone.now(), rows=rows)
        # The older builds go: their rows first, in one statement.
        with connections["default"].cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {FigureCount._meta.db_table} WHERE build_id <> %s",  # noqa: S608
                [made.pk],
            )
        RollupBuild.objects.exclude(pk=made.pk).delete()
    made.refresh_from_db()
    return made


def _insert(cursor, build_id: int, select_sql: str, params) -> int:
    table = FigureCount._meta.db_table
    cursor.execute(
        f"INSERT INTO {table} (build_id, region_id, region_city_id, region_province_id, "  # noqa: S608
        f"dimension, value, count) SELECT %s, q.* FROM ({select_sql}) AS q",
        [build_id, *params],
    )
    return cursor.rowcount


def _count_into(made: RollupBuild) -> int:
    assets = DataAsset._meta.db_table
    zone = timezone.get_current_timezone_name()
    regions = ", ".join(f"t.{column}" for column in REGION_COLUMNS)
    columns = [(name, expression) for name, expression in ASSET_DIMENSIONS if name != "total"]
    inner = ", ".join(
        [f"a.{column}" for column in REGION_COLUMNS]
        + [f"{expression} AS {name}" for name, expression in columns]
    ).replace("%(zone)s", "%s")
    sets = ", ".join([f"({regions})"] + [f"({regions}, t.{name})" for name, _e in columns])
    flags = ", ".join(f"t.{name}, GROUPING(t.{name}) AS g_{name}" for name, _e in columns)
    # One scan, one hash table per breakdown; each grouped row names its breakdown.
    which = ", ".join(
        [f"('total', '', {' AND '.join(f'g.g_{name} = 1' for name, _e in columns)})"]
        + [f"('{name}', g.{name}, g.g_{name} = 0)" for name, _e in columns]
    )
    grouped = (
        f"SELECT {regions}, {flags}, count(*) AS n FROM (SELECT {inner} FROM {assets} AS a "  # noqa: S608
        f"JOIN accounts_institution AS h ON h.id = a.holder_id) AS t "
        f"GROUP BY GROUPING SETS ({sets})"
    )
    region_out = ", ".join(f"g.{column}" for column in REGION_COLUMNS)
    rows = 0
    with connections["default"].cursor() as cursor:
        rows += _insert(cursor, made.pk, (
            f"SELECT {region_out}, d.dimension, d.value, g.n FROM ({grouped}) AS g "  # noqa: S608
            f"CROSS JOIN LATERAL (VALUES {which}) AS d(dimension, value, hit) "
            f"WHERE d.hit AND d.value IS NOT NULL"
        ), [zone])
        regions_a = ", ".join(f"a.{column}" for column in REGION_COLUMNS)
        rows += _insert(cursor, made.pk, (
            f"SELECT {regions_a}, 'category', c.code, count(*) FROM {assets} AS a "  # noqa: S608
            f"CROSS JOIN LATERAL jsonb_array_elements_text(a.categories) AS c(code) "
            f"GROUP BY {regions_a}, c.code"
        ), [])
        for select_sql, params in _grouped_querysets():
            rows += _insert(cursor, made.pk, select_sql, params)
    return rows


def _grouped_querysets():
    """The counts that come from other tables, as (SQL, params) with the region columns,
    dimension, value and count in that order."""
    regions = ("region", "region_city", "region_province")
    asset_regions = [f"asset__{name}" for name in regions]
    current = Finding.objects.filter(status__in=CURRENT_STATUSES).order_by()
    grouped = [
        (without_holder(DataAsset.objects.order_by()), regions, "without_holder", _text("")),
        (current, asset_regions, "finding", _rule_severity()),
        (current.filter(rule=FindingRule.STALE), asset_regions, "stale",
         _text_of("institution_id")),
    ]
    return [
        queryset.annotate(dimension=_text(dimension), value=value)
        .values(*columns, "dimension", "value").annotate(n=Count("pk"))
        .query.sql_with_params()
        for queryset, columns, dimension, value in grouped
    ]


def _text(value: str):
    return Value(value, output_field=CharField())


def _text_of(field: str):
    return Cast(field, output_field=CharField())


def _rule_severity():
    return Concat("rule", Value(":"), Cast("severity", output_field=CharField()),
                  output_field=CharField())


# --- Reading --------------------------------------------------------------------------------


def usable_build(user, filters: dict) -> RollupBuild | None:
    """The build a report of ``user`` with ``filters`` may be summed from, if any."""
    seconds = settings.REPORT_ROLLUP_MAX_AGE
    if not seconds or set(filters) - {"region"} or not is_postgresql():
        return None
    if user is not None:
        found = reach(user, Action.REPORT)
        # Only jurisdictions: the rows carry regions, not holders or grants.
        if found.institution_ids or granted_asset_ids(user, Action.REPORT) is not None:
            return None
    made = latest()
    if made is None or made.started_at < timezone.now() - timedelta(seconds=seconds):
        return None
    return made


def counts(made: RollupBuild, user, filters: dict, region_column: str | None) -> Counts:
    """The report's counts summed from ``made``'s rows in the user's jurisdiction."""
    rows = FigureCount.objects.filter(build=made)
    if user is not None:
        condition = reach_q(reach(user, Action.REPORT))
        if condition is not None:
            rows = rows.filter(condition)
    region = filters.get("region")
    if region is not None:
        rows = rows.filter(jurisdiction_q(region.level, region.code))
    by_value: dict[str, dict] = {}
    findings, stale = {}, {}
    total = lacking = 0
    for dimension, value, n in rows.order_by().values_list("dimension", "value").annotate(
        n=Sum("count")
    ).values_list("dimension", "value", "n"):
        if dimension == "total":
            total = n
        elif dimension == "without_holder":
            lacking = n
        elif dimension == "finding":
            rule, _sep, severity = value.partition(":")
            findings[(rule, int(severity))] = n
        elif dimension == "stale":
            stale[int(value)] = n
        else:
            by_value.setdefault(dimension, {})[_typed(dimension, value)] = n
    if region_column:
        column = f"{region_column}_id"
        by_value["region"] = dict(
            rows.filter(dimension="total").exclude(**{f"{column}__isnull": True}).order_by()
            .values_list(column).annotate(n=Sum("count")).values_list(column, "n")
        )
    return Counts(total=total, by_value=by_value, findings=findings, stale=stale,
                  without_holder=lacking)


def _typed(dimension: str, value: str):
    if dimension in ("grade", "holder"):
        return int(value)
    if dimension == "month":
        return date.fromisoformat(value)
    return value
