"""Facet counts for the catalog list: how many of the (scoped, filtered) assets fall under
each value.

On PostgreSQL every facet comes from one pass over the filtered rows (GROUPING SETS); other
databases use one aggregate query plus one grouped query for regions and one for
institutions. The counts of one scope and filter are cached briefly
(``CATALOG_FACET_CACHE_SECONDS``), keyed by the SQL that selects the rows, so the scope is
part of the key by construction.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import operator
from dataclasses import dataclass, field
from functools import reduce

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from accounts.choices import RegionLevel
from accounts.models import Institution, Region

from .choices import AssetStatus, DataCategory, SensitivityGrade, SharingType, UpdateFrequency

# (query parameter, label, column, enumeration) of the enumerated single-value facets.
ENUM_FACETS = [
    ("grade", _("Sensitivity grade"), "grade", SensitivityGrade),
    ("sharing_type", _("Sharing type"), "sharing_type", SharingType),
    ("update_frequency", _("Update frequency"), "update_frequency", UpdateFrequency),
    ("status", _("Status"), "status", AssetStatus),
]
TOP_INSTITUTIONS = 10
TOP_REGIONS = 40


@dataclass
class FacetOption:
    value: str
    label: str
    count: int
    selected: bool = False


@dataclass
class Facet:
    param: str
    label: str
    options: list[FacetOption] = field(default_factory=list)


@dataclass
class FacetResult:
    total: int
    facets: list[Facet]


@dataclass
class RawCounts:
    """Counts by facet parameter and stored value (region codes, holder ids, …)."""

    total: int = 0
    by_value: dict[str, dict] = field(default_factory=dict)


def facet_counts(
    queryset, selected: dict[str, str], region: Region | None, *, count: bool = True,
    unscoped=None, branches: list[Q] | None = None, stamp: str = "",
) -> FacetResult | None:
    """Counts over ``queryset`` (already scoped and filtered) for every facet.

    Given the same filters ``unscoped`` and the scope's ``branches`` (``scope_branches``),
    PostgreSQL counts each branch apart, minus the rows of the branches before it — each
    part walks its own index — instead of one OR over the whole table. With
    ``count=False`` only counts already in the cache are returned (None otherwise).
    ``stamp`` (``catalog.freshness.stamp``) names what else the counts depend on: cached
    counts with another stamp are not used.
    """
    base = queryset.order_by()
    if unscoped is not None and branches:
        base = _disjoint_parts(unscoped.order_by(), branches)
    region_column = _region_column(region)
    raw = _cached_counts(base, region_column, count=count, stamp=stamp)
    if raw is None:
        return None

    facets = [_enum_facet("category", _("Data category"), DataCategory, raw, selected)]
    facets += [
        _enum_facet(param, label, choices, raw, selected)
        for param, label, _column, choices in ENUM_FACETS
    ]
    facets.append(_region_facet(raw, region))
    facets.append(_institution_facet(raw, selected.get("holder")))
    return FacetResult(total=raw.total, facets=facets)


class DisjointParts:
    """The scope's branches as disjoint row sets: branch i without branches 1…i-1."""

    def __init__(self, parts: list):
        self.parts = parts
        self.db = parts[0].db

    def values_list(self, *columns):
        heads = [part.values_list(*columns) for part in self.parts]
        return heads[0].union(*heads[1:], all=True) if len(heads) > 1 else heads[0]

    @property
    def query(self):
        return self.values_list("pk").query


def _disjoint_parts(unscoped, branches: list[Q]):
    if len(branches) == 1:
        return unscoped.filter(branches[0])
    if connections[unscoped.db].vendor != "postgresql":
        return unscoped.filter(reduce(operator.or_, branches))
    return DisjointParts([
        unscoped.filter(branch).exclude(reduce(operator.or_, branches[:index]))
        if index else unscoped.filter(branch)
        for index, branch in enumerate(branches)
    ])


def _region_column(region: Region | None) -> str:
    """Regions one level below the selected one (provinces when none is selected)."""
    if region is None:
        return "region_province"
    if region.level == RegionLevel.PROVINCE:
        return "region_city"
    return "region"


def _cached_counts(
    base, region_column: str, *, count: bool = True, stamp: str = ""
) -> RawCounts | None:
    seconds = settings.CATALOG_FACET_CACHE_SECONDS
    if not seconds:
        return _count(base, region_column) if count else None
    sql, params = base.query.sql_with_params()
    digest = hashlib.sha256(f"{stamp}|{region_column}|{sql}|{params!r}".encode()).hexdigest()
    key = f"catalog:facets:{digest}"
    found = cache.get(key)
    if found is None and count:
        found = _count(base, region_column)
        cache.set(key, found, seconds)
    return found


def rows_to_count(
    queryset, region: Region | None, *, unscoped=None, branches: list[Q] | None = None
) -> int | None:
    """The planner's estimate of how many rows counting the facets of ``queryset`` takes
    in (PostgreSQL; None elsewhere). Planning only — nothing is read — so it costs about a
    millisecond."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    base = queryset.order_by()
    if unscoped is not None and branches:
        base = _disjoint_parts(unscoped.order_by(), branches)
    columns = [column for column, _p in _grouped_columns(_region_column(region))]
    sql, params = base.values_list(*columns, "categories").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def _count(base, region_column: str) -> RawCounts:
    if connections[base.db].vendor == "postgresql":
        raw = _count_one_pass(base, region_column)
    else:
        raw = _count_portable(base, region_column)
    # Only the largest regions and institutions are shown: keep (and cache) just those.
    for param, size in (("region", TOP_REGIONS), ("holder", TOP_INSTITUTIONS)):
        raw.by_value[param] = dict(_top(raw.by_value.get(param, {}), size))
    return raw


# The grouped columns of the one-pass query, in order, with the parameter each answers.
def _grouped_columns(region_column: str) -> list[tuple[str, str]]:
    return [(column, param) for param, _l, column, _c in ENUM_FACETS] + [
        (f"{region_column}_id", "region"),
        ("holder_id", "holder"),
    ]


def _count_one_pass(base, region_column: str) -> RawCounts:
    """Every facet in one scan of the filtered rows, with GROUPING SETS."""
    grouped = _grouped_columns(region_column)
    inner = base.values_list(*[column for column, _p in grouped], "categories")
    inner_sql, inner_params = inner.query.sql_with_params()
    columns = [column for column, _p in grouped]
    grouping_flags = ", ".join(f"GROUPING({c})" for c in columns)
    category_counts = ", ".join(
        "count(*) FILTER (WHERE categories @> %s::jsonb)" for _v in DataCategory.values
    )
    sets = ", ".join(["()"] + [f"({c})" for c in columns])
    sql = (
        f"SELECT {grouping_flags}, {', '.join(columns)}, count(*), {category_counts} "  # noqa: S608
        f"FROM ({inner_sql}) AS filtered GROUP BY GROUPING SETS ({sets})"
    )
    # The category parameters stand before the inner query's in the statement text.
    params = [json.dumps([value]) for value in DataCategory.values] + list(inner_params)

    raw = RawCounts(by_value={param: {} for _c, param in grouped})
    width = len(columns)
    with connections[base.db].cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            flags, values = row[:width], row[width : 2 * width]
            count, category_row = row[2 * width], row[2 * width + 1 :]
            if all(flags):
                raw.total = count
                raw.by_value["category"] = dict(zip(DataCategory.values, category_row, strict=True))
                continue
            index = flags.index(0)
            if values[index] is not None:
                raw.by_value[grouped[index][1]][values[index]] = count
    raw.by_value.setdefault("category", {})
    return raw


def _count_portable(base, region_column: str) -> RawCounts:
    aggregates = {"total": Count("pk")}
    for value in DataCategory.values:
        aggregates[f"category__{value}"] = Count("pk", filter=Q(categories__has=value))
    for param, _label, column, choices in ENUM_FACETS:
        for value in choices.values:
            aggregates[f"{param}__{value}"] = Count("pk", filter=Q(**{column: value}))
    counts = base.aggregate(**aggregates)
    raw = RawCounts(total=counts.pop("total"))
    for key, count in counts.items():
        param, value = key.split("__", 1)
        raw.by_value.setdefault(param, {})[int(value) if param == "grade" else value] = count
    raw.by_value["region"] = dict(
        base.exclude(**{f"{region_column}__isnull": True}).values_list(region_column)
        .annotate(n=Count("pk")).values_list(region_column, "n")
    )
    raw.by_value["holder"] = dict(
        base.values_list("holder").annotate(n=Count("pk")).values_list("holder", "n")
    )
    return raw


def _enum_facet(param, label, choices, raw: RawCounts, selected) -> Facet:
    facet = Facet(param, str(label))
    counts = raw.by_value.get(param, {})
    for value, option_label in choices.choices:
        count = counts.get(value, 0)
        chosen = selected.get(param) == str(value)
        if count or chosen:
            facet.options.append(FacetOption(str(value), str(option_label), count, chosen))
    return facet


def _top(counts: dict, size: int) -> list[tuple]:
    return heapq.nsmallest(size, counts.items(), key=lambda item: (-item[1], str(item[0])))


def _region_facet(raw: RawCounts, region: Region | None) -> Facet:
    rows = _top(raw.by_value.get("region", {}), TOP_REGIONS)
    names = Region.objects.in_bulk([code for code, _n in rows])
    facet = Facet("region", str(_("Region")))
    if region is not None:
        facet.options.append(FacetOption(region.code, region.full_name, -1, True))
    for code, n in rows:
        if region is not None and code == region.code:
            continue
        facet.options.append(FacetOption(code, names[code].name, n))
    return facet


def _institution_facet(raw: RawCounts, selected_holder: str | None) -> Facet:
    rows = _top(raw.by_value.get("holder", {}), TOP_INSTITUTIONS)
    names = dict(
        Institution.objects.filter(pk__in=[pk for pk, _n in rows]).values_list("pk", "name")
    )
    facet = Facet("holder", str(_("Holding institution")))
    for pk, n in rows:
        facet.options.append(
            FacetOption(str(pk), names.get(pk, str(pk)), n, str(pk) == selected_holder)
        )
    return facet
