"""Facet counts equal counts made by hand over the same assets, for what the user may see."""

from __future__ import annotations

from collections import Counter

import pytest
from django.core.cache import cache
from django.urls import reverse

from accounts.choices import RegionLevel
from catalog.choices import (
    AssetStatus,
    DataCategory,
    OpenAttribute,
    SharingType,
    UpdateFrequency,
)
from catalog.facets import TOP_INSTITUTIONS, facet_counts
from catalog.models import DataAsset

from ..factories import DataAssetFactory, InstitutionFactory, region

pytestmark = pytest.mark.django_db

LIST = reverse("catalog:asset_list")
CATEGORY_SETS = [
    [DataCategory.HEALTH_RESOURCES],
    [DataCategory.HEALTH_RESOURCES, DataCategory.PUBLIC_HEALTH],
    [DataCategory.PUBLIC_HEALTH],
    [DataCategory.HEALTH_STATUS, DataCategory.MEDICAL_APPLICATION],
]
FREQUENCIES = [UpdateFrequency.DAILY, UpdateFrequency.MONTHLY, UpdateFrequency.YEARLY]


@pytest.fixture
def assets(province_commission):
    holders = [
        InstitutionFactory(name="西湖医院", region=region("330106")),
        InstitutionFactory(name="上城医院", region=region("330102")),
        InstitutionFactory(name="海曙医院", region=region("330203")),
        InstitutionFactory(name="天河医院", region=region("440106")),
        InstitutionFactory(name="东城医院", region=region("110101")),
    ]
    made = []
    for i in range(45):
        open_ = i % 3 != 2
        made.append(DataAssetFactory(
            holder=holders[i % len(holders)],
            categories=CATEGORY_SETS[i % len(CATEGORY_SETS)],
            update_frequency=FREQUENCIES[i % len(FREQUENCIES)],
            grade=1 + (i % 2) if open_ else 3 + (i // 3) % 3,
            sharing_type=SharingType.UNCONDITIONAL if open_ else SharingType.CONDITIONAL,
            sharing_condition="" if open_ else "审批",
            open_attribute=OpenAttribute.OPEN if open_ else OpenAttribute.NOT_OPEN,
            status=AssetStatus.DRAFT if i % 7 == 0 else AssetStatus.REGISTERED,
        ))
    return [DataAsset.objects.get(pk=a.pk) for a in made]


def in_open_catalog(asset) -> bool:
    return (asset.status, asset.sharing_type, asset.open_attribute) == (
        "registered", "unconditional", "open",
    )


def visible_to_steward33(asset) -> bool:
    return in_open_catalog(asset) or asset.holder.region.province_id == "330000"


def expected_counts(rows, region_column="region_province") -> dict[str, Counter]:
    counts = {
        "category": Counter(c for a in rows for c in a.categories),
        "grade": Counter(str(a.grade) for a in rows),
        "sharing_type": Counter(a.sharing_type for a in rows),
        "update_frequency": Counter(a.update_frequency for a in rows),
        "status": Counter(a.status for a in rows),
        "holder": Counter(str(a.holder_id) for a in rows),
    }
    counts["region"] = Counter(getattr(a.holder.region, {
        "region_province": "province_id", "region_city": "city_id", "region": "code",
    }[region_column]) for a in rows)
    return counts


def shown_counts(response) -> dict[str, Counter]:
    facets = response.context["facets"]
    return {
        facet.param: Counter({o.value: o.count for o in facet.options if o.count >= 0})
        for facet in facets.facets
    }


def check(response, rows, **kwargs):
    assert response.status_code == 200
    assert response.context["facets"].total == len(rows)
    expected = expected_counts(rows, **kwargs)
    shown = shown_counts(response)
    assert len(expected["holder"]) <= TOP_INSTITUTIONS
    for param, counts in expected.items():
        assert shown[param] == counts, param


def test_anonymous_counts_cover_the_open_catalog_only(client, assets):
    rows = [a for a in assets if in_open_catalog(a)]
    assert 0 < len(rows) < len(assets)
    check(client.get(LIST), rows)


def test_steward_counts_cover_its_jurisdiction_and_the_open_catalog(client, steward, assets):
    rows = [a for a in assets if visible_to_steward33(a)]
    assert len([a for a in assets if in_open_catalog(a)]) < len(rows) < len(assets)
    client.force_login(steward)
    check(client.get(LIST), rows)


def test_superuser_counts_cover_everything(client, superuser, assets):
    client.force_login(superuser)
    check(client.get(LIST), assets)


@pytest.mark.parametrize(
    ("params", "keep"),
    [
        ({"category": "public_health"}, lambda a: "public_health" in a.categories),
        ({"grade": "4"}, lambda a: a.grade == 4),
        ({"sharing_type": "conditional"}, lambda a: a.sharing_type == "conditional"),
        ({"update_frequency": "monthly"}, lambda a: a.update_frequency == "monthly"),
        ({"status": "draft"}, lambda a: a.status == "draft"),
        ({"category": "health_resources", "update_frequency": "daily"},
         lambda a: "health_resources" in a.categories and a.update_frequency == "daily"),
    ],
)
def test_counts_reflect_the_active_filters(client, steward, assets, params, keep):
    rows = [a for a in assets if visible_to_steward33(a) and keep(a)]
    assert rows
    client.force_login(steward)
    response = client.get(LIST, params)
    check(response, rows)
    selected = {(f.param, o.value) for f in response.context["facets"].facets
                for o in f.options if o.selected}
    assert selected == set(params.items())


def test_holder_filter(client, steward, assets):
    holder = assets[0].holder
    rows = [a for a in assets if visible_to_steward33(a) and a.holder_id == holder.pk]
    client.force_login(steward)
    check(client.get(LIST, {"holder": str(holder.pk)}), rows)


def test_region_filter_counts_by_the_level_below(client, steward, assets):
    client.force_login(steward)
    rows = [a for a in assets if visible_to_steward33(a) and a.region_province_id == "330000"]
    response = client.get(LIST, {"region": "330000"})
    check(response, rows, region_column="region_city")
    region_facet = next(f for f in response.context["facets"].facets if f.param == "region")
    assert region_facet.options[0].value == "330000" and region_facet.options[0].selected

    rows = [a for a in rows if a.region_city_id == "330100"]
    check(client.get(LIST, {"region": "330100"}), rows, region_column="region")


def test_hidden_assets_are_never_counted(client, assets):
    hidden_only = [a for a in assets if not in_open_catalog(a)]
    # A filter value that only hidden assets carry shows nothing to the public.
    response = client.get(LIST, {"sharing_type": "conditional"})
    assert response.context["facets"].total == 0
    assert hidden_only
    for facet in response.context["facets"].facets:
        assert all(o.count in (0, -1) or o.selected for o in facet.options), facet.param
    # Values that only hidden assets carry do not appear in the public facets at all.
    public = shown_counts(client.get(LIST))
    open_rows = [a for a in assets if in_open_catalog(a)]
    hidden_grades = {str(a.grade) for a in hidden_only} - {str(a.grade) for a in open_rows}
    assert hidden_grades == {"3", "4", "5"}
    assert not hidden_grades & set(public["grade"])
    assert "conditional" not in public["sharing_type"]


def test_region_names_are_shown(client, superuser, assets):
    client.force_login(superuser)
    response = client.get(LIST)
    region_facet = next(f for f in response.context["facets"].facets if f.param == "region")
    expected = {code: region(code).name for code in ("330000", "440000", "110000")}
    assert {o.value: o.label for o in region_facet.options} == expected
    assert all(region(code).level == RegionLevel.PROVINCE for code in expected)


def test_cached_counts_are_reused_for_the_same_scope_and_filter(client, steward, assets, settings):
    settings.CATALOG_FACET_CACHE_SECONDS = 60
    client.force_login(steward)
    before = shown_counts(client.get(LIST, {"grade": 1}))
    DataAsset.objects.filter(pk=assets[0].pk).update(name="改名不改计数")
    DataAssetFactory(holder=assets[0].holder, grade=1, sharing_type=SharingType.UNCONDITIONAL,
                     sharing_condition="", open_attribute=OpenAttribute.OPEN)
    again = shown_counts(client.get(LIST, {"grade": 1}))
    assert again == before  # served from the cache for the cache's lifetime


def test_cached_counts_are_never_shared_between_scopes(client, steward, assets, settings):
    settings.CATALOG_FACET_CACHE_SECONDS = 60
    client.force_login(steward)
    check(client.get(LIST), [a for a in assets if visible_to_steward33(a)])
    client.logout()
    check(client.get(LIST), [a for a in assets if in_open_catalog(a)])


# --- Counts deferred for wide scopes -----------------------------------------------------


FACETS = reverse("catalog:facets")


@pytest.mark.postgres
def test_wide_scope_serves_rows_first_and_counts_from_the_facets_endpoint(
    client, steward, assets, settings
):
    settings.CATALOG_FACETS_INLINE_MAX_ROWS = -1  # every scope counts as wide
    client.force_login(steward)
    page = client.get(LIST, {"grade": 1})
    assert page.context["facets"] is None and page.context["facets_deferred"]
    assert page.context["page"].items
    html = page.content.decode()
    assert f'data-facets-src="{FACETS}?grade=1"' in html and "js/facets.js" in html
    fragment = client.get(FACETS, {"grade": 1})
    assert fragment.status_code == 200
    rows = [a for a in assets if visible_to_steward33(a) and a.grade == 1]
    assert fragment.context["facets"].total == len(rows)
    assert shown_counts(fragment) == expected_counts(rows)


@pytest.mark.postgres
def test_counts_one_forces_them_into_the_page(client, assets, settings):
    settings.CATALOG_FACETS_INLINE_MAX_ROWS = -1
    response = client.get(LIST, {"counts": "1"})
    assert not response.context["facets_deferred"]
    assert response.context["facets"].total == sum(map(in_open_catalog, assets))
    assert "counts=1" not in response.context["query_without_cursor"]


@pytest.mark.postgres
def test_cached_counts_are_shown_with_the_page_even_for_a_wide_scope(client, assets, settings):
    settings.CATALOG_FACETS_INLINE_MAX_ROWS = -1
    settings.CATALOG_FACET_CACHE_SECONDS = 60
    cache.clear()
    assert client.get(LIST).context["facets_deferred"]
    client.get(FACETS)  # counts and caches
    response = client.get(LIST)
    assert not response.context["facets_deferred"]
    assert response.context["facets"].total == sum(map(in_open_catalog, assets))


def test_facets_endpoint_counts_only_what_the_user_may_see(client, assets):
    fragment = client.get(FACETS)
    assert fragment.context["facets"].total == sum(map(in_open_catalog, assets))
    assert "assets match" in fragment.content.decode()


def test_facets_endpoint_refuses_bad_filters(client, assets):
    response = client.get(FACETS, {"grade": "9"})
    assert response.status_code == 400


@pytest.mark.postgres
def test_counting_branch_by_branch_equals_counting_the_scope_once(assets, province_commission):
    """Open catalog, province 33 and explicit grants overlap; each row still counts once."""
    from django.contrib.auth.models import Permission

    from access.models import AssetUserGrant
    from accounts.choices import Role
    from catalog.facets import _count_portable

    from ..factories import MembershipFactory, UserFactory

    user = MembershipFactory(user=UserFactory(username="overlap"),
                             institution=province_commission, role=Role.STEWARD).user
    view = Permission.objects.get(codename="view_dataasset")
    granted = [a for a in assets if not visible_to_steward33(a)][:3] + assets[:2]
    for asset in granted:
        AssetUserGrant.objects.create(user=user, permission=view, content_object=asset,
                                      reason="t")
    branches = DataAsset.objects.scope_branches(user)
    assert len(branches) == 3
    for filters in ({}, {"grade": 1}, {"status": AssetStatus.DRAFT}):
        scoped = DataAsset.objects.visible_to(user).filter(**filters)
        unscoped = DataAsset.objects.filter(**filters)
        by_branch = facet_counts(scoped, {}, None, unscoped=unscoped, branches=branches)
        reference = _count_portable(scoped.order_by(), "region_province")
        assert by_branch.total == reference.total == scoped.count()
        for facet in by_branch.facets:
            if facet.param in reference.by_value:
                expected = {str(k): v for k, v in reference.by_value[facet.param].items() if v}
                assert {o.value: o.count for o in facet.options} == expected, facet.param
