"""The figures of the inventory report: what the user's jurisdiction holds, how it is
classified, what the inventory found and how well rights are allocated.

Every figure starts from ``DataAsset.objects.restrict(user, Action.REPORT)`` narrowed by the
report's filters, so a report counts only what the user may see. The breakdowns come from
two scans of those rows: the catalog's facet pass (``catalog.facets``, one GROUPING SETS
query on PostgreSQL) and one more grouped pass for what the catalog does not count
(institution type, GB/T 43697 class, registration month). A fixed number of queries
follows, whatever the number of assets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Count, Exists, F, OuterRef, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access.models import AssetGroupGrant, AssetUserGrant
from accounts.choices import InstitutionType, RegionLevel
from accounts.models import Institution, Region
from accounts.scoping import Action, jurisdiction_q, reach
from catalog import facets
from catalog.choices import (
    AssetStatus,
    DataCategory,
    SecurityClass,
    SensitivityGrade,
    SharingType,
    UpdateFrequency,
)
from catalog.models import DataAsset
from inventory.choices import CURRENT_STATUSES, FindingRule, RunStatus, Severity
from inventory.models import RUN_SCOPE_FIELDS, Finding, Run
from rights.choices import AllocationStatus, Right
from rights.models import RightsAllocation
from rights.rules import EXPIRING_WITHIN_DAYS

TOP_INSTITUTIONS = 10
TREND_RUNS = 12

# The region column one level below each drill-down level; None: institutions.
NEXT_REGION_COLUMN = {
    None: "region_province",
    RegionLevel.PROVINCE: "region_city",
    RegionLevel.CITY: "region",
    RegionLevel.COUNTY: None,
}


@dataclass
class Row:
    value: str
    label: str
    count: int
    # The query parameter value that drills down into this row ("" when none).
    drill: str = ""


@dataclass
class Breakdown:
    key: str
    label: str
    rows: list[Row] = field(default_factory=list)


@dataclass
class FindingRow:
    rule: str
    label: str
    severity: Severity
    count: int


@dataclass
class RunRow:
    run: Run
    found: int
    new: int
    resolved: int


@dataclass
class Report:
    total: int
    region: Region | None  # the drill-down level the region breakdown is one below
    breakdowns: dict[str, Breakdown]
    findings: list[FindingRow]
    findings_total: int
    stale_institutions: list[Row]
    without_holder: int
    grants_expiring: int
    runs: list[RunRow]
    registered_by_month: list[Row]
    # When the asset figures were counted, if not just now (``reports.rollup``).
    as_of: datetime | None = None

    @property
    def ordered_breakdowns(self) -> list[Breakdown]:
        return list(self.breakdowns.values())


# --- Scope and filters -----------------------------------------------------------------------


def region_in_reach(user, region: Region) -> bool:
    """Whether ``region`` lies inside one of the user's report jurisdictions."""
    found = reach(user, Action.REPORT)
    if found.everything:
        return True
    inside = {
        None: lambda code: True,
        RegionLevel.PROVINCE: lambda code: region.province_id == code,
        RegionLevel.CITY: lambda code: code in (region.code, region.city_id),
        RegionLevel.COUNTY: lambda code: region.code == code,
    }
    return any(inside[level](code) for level, code in found.jurisdictions)


def drill_base(user, region: Region | None) -> Region | None:
    """The level the region breakdown starts below: the chosen region, else the user's one
    jurisdiction (several, or the whole country: the provinces)."""
    if region is not None or user is None:
        return region
    found = reach(user, Action.REPORT)
    if found.everything or len(found.jurisdictions) != 1:
        return None
    _level, code = next(iter(found.jurisdictions))
    return Region.objects.select_related("province", "city").get(code=code) if code else None


def scoped_assets(user, filters: dict):
    """The assets the report counts: the user's reach, narrowed by the valid filters.

    ``user`` None is the system itself making a scheduled report: its reach is the whole
    country, and the report's region filter (a commission's jurisdiction) narrows it.
    """
    assets = (
        DataAsset.objects.all() if user is None
        else DataAsset.objects.restrict(user, Action.REPORT)
    ).order_by()
    region = filters.get("region")
    if region is not None:
        assets = assets.filter(jurisdiction_q(region.level, region.code))
    if filters.get("institution_type"):
        assets = assets.filter(holder__type=filters["institution_type"])
    if filters.get("category"):
        assets = assets.filter(categories__has=filters["category"])
    for name in ("grade", "sharing_type", "status"):
        if filters.get(name) not in (None, ""):
            assets = assets.filter(**{name: filters[name]})
    return assets


# --- The report ------------------------------------------------------------------------------


@dataclass
class Counts:
    """What a report counts, before it is laid out: by breakdown and stored value (regions
    one level below the drill-down, holder ids, months as dates, …), current findings by
    (rule, severity), current "stale" findings by institution id, registered assets without
    a live holding right."""

    total: int
    by_value: dict[str, dict]
    findings: dict[tuple[str, int], int]
    stale: dict[int, int]
    without_holder: int


def build_report(user, filters: dict, counts: Counts | None = None) -> Report:
    """Every figure of the report for ``user`` and the (already validated) ``filters``
    (``user`` None: a scheduled report, see :func:`scoped_assets`). ``counts`` given (from
    ``reports.rollup``), the assets are not counted again."""
    assets = scoped_assets(user, filters)
    base = drill_base(user, filters.get("region"))
    region_column = NEXT_REGION_COLUMN[base.level if base else None]
    if counts is None:
        counts = count_assets(assets, region_column)
    by_value = counts.by_value

    holder_counts = by_value.get("holder", {})
    top_holders = facets._top(holder_counts, TOP_INSTITUTIONS)
    region_rows = (
        facets._top(by_value.get("region", {}), len(by_value.get("region", {})))
        if region_column else sorted(holder_counts.items(), key=lambda i: (-i[1], i[0]))
    )
    stale = sorted(counts.stale.items(), key=lambda item: (-item[1], item[0]))
    institution_ids = {pk for pk, _n in top_holders} | {pk for pk, _n in stale}
    if not region_column:
        institution_ids |= {pk for pk, _n in region_rows}
    names = dict(Institution.objects.filter(pk__in=institution_ids).values_list("pk", "name"))
    stale.sort(key=lambda item: (-item[1], names.get(item[0], ""), item[0]))

    breakdowns = {
        "holder": Breakdown("holder", str(_("Holding institution")), [
            Row(str(pk), names.get(pk, str(pk)), n) for pk, n in top_holders
        ]),
        "region": _region_breakdown(counts.total, region_rows, region_column, names),
    }
    for key, label, choices in ENUM_BREAKDOWNS:
        breakdowns[key] = _enum_breakdown(key, label, choices, by_value.get(key, {}))
    months = [
        Row(month.isoformat(), month.strftime("%Y-%m"), n)
        for month, n in sorted(by_value.get("month", {}).items())
    ]
    findings = [
        FindingRow(rule, FindingRule(rule).label, Severity(severity), n)
        for (rule, severity), n in counts.findings.items()
    ]
    findings.sort(key=lambda row: (-row.severity, -row.count, row.rule))
    return Report(
        total=counts.total,
        region=base,
        breakdowns=breakdowns,
        findings=findings,
        findings_total=sum(row.count for row in findings),
        stale_institutions=[
            Row(str(pk), names.get(pk, str(pk)), n) for pk, n in stale[:TOP_INSTITUTIONS]
        ],
        without_holder=counts.without_holder,
        grants_expiring=_grants_expiring(assets),
        runs=_runs(user, filters.get("region")),
        registered_by_month=months,
    )


# (key, label, enumeration) of the breakdowns by an enumerated value, in the page's order.
ENUM_BREAKDOWNS = [
    ("institution_type", _("Institution type"), InstitutionType),
    ("category", _("Data category"), DataCategory),
    ("grade", _("Sensitivity grade"), SensitivityGrade),
    ("security_class", _("Data-security class (GB/T 43697)"), SecurityClass),
    ("sharing_type", _("Sharing type"), SharingType),
    ("update_frequency", _("Update frequency"), UpdateFrequency),
    ("status", _("Status"), AssetStatus),
]


def count_assets(assets, region_column: str | None) -> Counts:
    """Count the report's figures over ``assets`` as they are now."""
    raw = _catalog_counts(assets, region_column or "region")
    extra = _extra_counts(assets)
    by_value = dict(raw.by_value)
    by_value["institution_type"] = extra["holder_type"]
    by_value["security_class"] = extra["security_class"]
    by_value["month"] = extra["month"]
    return Counts(
        total=raw.total, by_value=by_value, findings=_findings(assets),
        stale=_stale_institutions(assets), without_holder=_without_holder(assets),
    )


def _catalog_counts(assets, region_column: str) -> facets.RawCounts:
    """Total, categories, grade, sharing type, update frequency, status, regions one level
    down and holders: the catalog's one-pass facet count (not cut to its top rows)."""
    try:
        assets.query.sql_with_params()
    except EmptyResultSet:
        return facets.RawCounts(by_value={})
    if connections[assets.db].vendor == "postgresql":
        return facets._count_one_pass(assets, region_column)
    return facets._count_portable(assets, region_column)


EXTRA_COLUMNS = ("holder_type", "security_class", "month")


def _extra_counts(assets) -> dict[str, dict]:
    """Counts by the holder's institution type, GB/T 43697 class and registration month, in
    one grouped pass (GROUPING SETS on PostgreSQL; one query per column elsewhere)."""
    found: dict[str, dict] = {column: {} for column in EXTRA_COLUMNS}
    rows = assets.annotate(
        holder_type=F("holder__type"), month=TruncMonth("registered_at")
    )
    try:
        inner_sql, inner_params = rows.values_list(*EXTRA_COLUMNS).query.sql_with_params()
    except EmptyResultSet:
        return found
    connection = connections[assets.db]
    if connection.vendor != "postgresql":
        for column in EXTRA_COLUMNS:
            for value, n in rows.values_list(column).annotate(n=Count("pk")).values_list(
                column, "n"
            ):
                if value is not None:
                    found[column][_month(value) if column == "month" else value] = n
        return found
    flags = ", ".join(f"GROUPING({column})" for column in EXTRA_COLUMNS)
    sets = ", ".join(f"({column})" for column in EXTRA_COLUMNS)
    sql = (
        f"SELECT {flags}, {', '.join(EXTRA_COLUMNS)}, count(*) "  # noqa: S608
        f"FROM ({inner_sql}) AS filtered GROUP BY GROUPING SETS ({sets})"
    )
    width = len(EXTRA_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(sql, inner_params)
        for row in cursor.fetchall():
            index = list(row[:width]).index(0)
            value = row[width + index]
            if value is not None:
                column = EXTRA_COLUMNS[index]
                found[column][_month(value) if column == "month" else value] = row[-1]
    return found


def _month(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def _enum_breakdown(key, label, choices, counts: dict) -> Breakdown:
    rows = [
        Row(str(value), str(option_label), counts.get(value, 0), drill=str(value))
        for value, option_label in choices.choices
        if counts.get(value, 0)
    ]
    return Breakdown(key, str(label), rows)


def _region_breakdown(total, region_rows, region_column, institution_names) -> Breakdown:
    if region_column is None:
        rows = [
            Row(str(pk), institution_names.get(pk, str(pk)), n) for pk, n in region_rows
        ]
        return Breakdown("region", str(_("Institution")), rows)
    names = Region.objects.in_bulk([code for code, _n in region_rows])
    rows = [
        Row(code, names[code].name if code in names else code, n, drill=code)
        for code, n in region_rows
    ]
    # Assets held at the level itself (e.g. by a provincial institution): no lower division.
    rest = total - sum(row.count for row in rows)
    if rest:
        rows.append(Row("", str(_("At this level itself")), rest))
    return Breakdown("region", str(_("Region")), rows)


def _findings(assets) -> dict[tuple[str, int], int]:
    """Current findings on the assets in scope, by rule and severity."""
    counts = (
        Finding.objects.filter(asset__in=assets.values("pk"), status__in=CURRENT_STATUSES)
        .order_by().values_list("rule", "severity").annotate(n=Count("pk"))
    )
    return {(rule, severity): n for rule, severity, n in counts}


def _stale_institutions(assets) -> dict[int, int]:
    """Current "stale" findings on assets in scope, by institution."""
    counts = (
        Finding.objects.filter(
            asset__in=assets.values("pk"), status__in=CURRENT_STATUSES, rule=FindingRule.STALE
        )
        .order_by().values_list("institution_id").annotate(n=Count("pk"))
    )
    return dict(counts.values_list("institution_id", "n"))


def without_holder(assets):
    """The registered ones of ``assets`` without a live holding right today (the rights
    review's no_holder)."""
    day = timezone.localdate()
    holding = RightsAllocation.objects.filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=day),
        asset=OuterRef("pk"), right=Right.HOLD, status=AllocationStatus.ACTIVE,
        valid_from__lte=day,
    )
    return assets.filter(status=AssetStatus.REGISTERED).exclude(Exists(holding))


def _without_holder(assets) -> int:
    return without_holder(assets).count()


def _grants_expiring(assets) -> int:
    """Explicit access permissions on assets in scope ending within the coming days."""
    now = timezone.now()
    window = {
        "content_object__in": assets.values("pk"),
        "expires_at__gt": now,
        "expires_at__lte": now + timedelta(days=EXPIRING_WITHIN_DAYS),
    }
    return (
        AssetUserGrant.objects.filter(**window).values("pk")
        .union(AssetGroupGrant.objects.filter(**window).values("pk"), all=True).count()
    )


def _runs(user, region: Region | None) -> list[RunRow]:
    """The last finished runs the user reaches (inside the chosen region), with the counts
    they found."""
    runs = Run.objects.all() if user is None else Run.objects.restrict(user, Action.REPORT)
    runs = runs.filter(status=RunStatus.SUCCEEDED)
    if region is not None:
        runs = runs.filter(jurisdiction_q(region.level, region.code, fields=RUN_SCOPE_FIELDS))
    rows = []
    for run in runs.select_related("scope").order_by("-finished_at", "-id")[:TREND_RUNS]:
        numbers = run.counts.values() if isinstance(run.counts, dict) else []
        rows.append(RunRow(
            run,
            found=sum(int(n.get("found", 0)) for n in numbers),
            new=sum(int(n.get("new", 0)) for n in numbers),
            resolved=sum(int(n.get("resolved", 0)) for n in numbers),
        ))
    return rows

