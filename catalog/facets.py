"""Facet counts for the catalog list: how many of the (scoped, filtered) assets fall under
each value. Enumerated facets and categories come from one aggregate query; institutions
and regions from one grouped query each."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from accounts.choices import RegionLevel
from accounts.models import Institution, Region

from .choices import AssetStatus, DataCategory, SensitivityGrade, SharingType, UpdateFrequency

ENUM_FACETS = [
    ("category", _("Data category"), "categories__has", DataCategory),
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


def _key(param: str, value) -> str:
    return f"{param}__{value}"


def facet_counts(queryset, selected: dict[str, str], region: Region | None) -> FacetResult:
    """Counts over ``queryset`` (already scoped and filtered) for every facet."""
    base = queryset.order_by()
    aggregates = {"total": Count("pk")}
    for param, _label, lookup, choices in ENUM_FACETS:
        for value in choices.values:
            aggregates[_key(param, value)] = Count("pk", filter=Q(**{lookup: value}))
    counts = base.aggregate(**aggregates)

    facets = []
    for param, label, _lookup, choices in ENUM_FACETS:
        facet = Facet(param, str(label))
        for value, option_label in choices.choices:
            count = counts[_key(param, value)]
            chosen = selected.get(param) == str(value)
            if count or chosen:
                facet.options.append(FacetOption(str(value), str(option_label), count, chosen))
        facets.append(facet)
    facets.append(_region_facet(base, region))
    facets.append(_institution_facet(base, selected.get("holder")))
    return FacetResult(total=counts["total"], facets=facets)


def _region_facet(base, region: Region | None) -> Facet:
    """Regions one level below the selected one (provinces when none is selected)."""
    if region is None:
        column = "region_province"
    elif region.level == RegionLevel.PROVINCE:
        column = "region_city"
    else:
        column = "region"
    rows = list(
        base.exclude(**{f"{column}__isnull": True}).values_list(column)
        .annotate(n=Count("pk")).order_by("-n")[:TOP_REGIONS]
    )
    names = Region.objects.in_bulk([code for code, _n in rows])
    facet = Facet("region", str(_("Region")))
    if region is not None:
        facet.options.append(FacetOption(region.code, region.full_name, -1, True))
    for code, n in rows:
        if region is not None and code == region.code:
            continue
        facet.options.append(FacetOption(code, names[code].name, n))
    return facet


def _institution_facet(base, selected_holder: str | None) -> Facet:
    rows = list(
        base.values_list("holder").annotate(n=Count("pk")).order_by("-n")[:TOP_INSTITUTIONS]
    )
    names = dict(
        Institution.objects.filter(pk__in=[pk for pk, _n in rows]).values_list("pk", "name")
    )
    facet = Facet("holder", str(_("Holding institution")))
    for pk, n in rows:
        facet.options.append(
            FacetOption(str(pk), names.get(pk, str(pk)), n, str(pk) == selected_holder)
        )
    return facet
