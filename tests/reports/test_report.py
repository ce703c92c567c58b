"""The inventory report: figures against counts computed here, one scoping rule, filters,
drill-down, refusals and a fixed number of queries."""

from __future__ import annotations

from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.choices import Role
from accounts.scoping import ACTION_ROLES, Action
from catalog.choices import AssetStatus, DataCategory
from inventory.choices import CURRENT_STATUSES, FindingRule
from reports.figures import build_report

from ..factories import region
from .conftest import make_assets

pytestmark = pytest.mark.django_db

URL = "/reports/"
SHANGHAI = ZoneInfo("Asia/Shanghai")

# Which holder regions each user's jurisdiction covers, stated by hand.
JURISDICTION_PREFIX = {
    "province_steward": "33", "staff": "33", "auditor": "33", "city_steward": "3301",
    "xihu_steward": "330106", "shangcheng_steward": "330102", "haishu_steward": "330203",
    "guangdong_steward": "44",
}


def in_scope(world, user_key, asset, prefix: str | None = None) -> bool:
    code = asset.holder.region_id
    return code.startswith(JURISDICTION_PREFIX[user_key]) and code.startswith(prefix or "")


def expected(world, user_key, **filters) -> dict:
    """Every figure of the report, counted in Python over the created rows."""
    prefix = filters.pop("prefix", None)
    assets = [
        a for a in world.assets
        if in_scope(world, user_key, a, prefix)
        and all(
            (value in a.categories) if name == "category"
            else (a.holder.type == value) if name == "institution_type"
            else getattr(a, name) == value
            for name, value in filters.items()
        )
    ]
    ids = {a.pk for a in assets}
    current = [f for f in world.findings if f.asset_id in ids and f.status in CURRENT_STATUSES]
    category = Counter(c for a in assets for c in a.categories)
    return {
        "total": len(assets),
        "holder": Counter(a.holder_id for a in assets),
        "institution_type": Counter(a.holder.type for a in assets),
        "category": category,
        "grade": Counter(a.grade for a in assets),
        "security_class": Counter(a.security_class for a in assets),
        "sharing_type": Counter(a.sharing_type for a in assets),
        "update_frequency": Counter(a.update_frequency for a in assets),
        "status": Counter(a.status for a in assets),
        "month": Counter(
            a.registered_at.astimezone(SHANGHAI).date().replace(day=1).isoformat()
            for a in assets if a.registered_at
        ),
        "findings": Counter(f.rule for f in current),
        "stale": Counter(f.institution_id for f in current if f.rule == FindingRule.STALE),
        "without_holder": sum(
            1 for a in assets if a.status == AssetStatus.REGISTERED and a.pk not in world.allocated
        ),
        "expiring": sum(1 for a in world.expiring if a.pk in ids),
    }


def figures(report) -> dict:
    """The report's figures in the shape of :func:`expected`."""
    def rows(key, cast=str):
        return Counter({cast(row.value): row.count for row in report.breakdowns[key].rows})

    return {
        "total": report.total,
        "holder": rows("holder", int),
        "institution_type": rows("institution_type"),
        "category": rows("category"),
        "grade": rows("grade", int),
        "security_class": rows("security_class"),
        "sharing_type": rows("sharing_type"),
        "update_frequency": rows("update_frequency"),
        "status": rows("status"),
        "month": Counter({row.value: row.count for row in report.registered_by_month}),
        "findings": Counter({row.rule: row.count for row in report.findings}),
        "stale": Counter({int(row.value): row.count for row in report.stale_institutions}),
        "without_holder": report.without_holder,
        "expiring": report.grants_expiring,
    }


def test_report_action_is_for_commission_roles_only():
    roles = ACTION_ROLES[Action.REPORT]
    assert roles.institution == frozenset()
    assert roles.jurisdiction == {Role.STEWARD, Role.COMMISSION_STAFF, Role.AUDITOR}


@pytest.mark.parametrize("user_key", sorted(JURISDICTION_PREFIX))
def test_figures_match_independent_counts(world, user_key):
    report = build_report(world.users[user_key], {})
    assert figures(report) == expected(world, user_key)
    assert report.total > 0


def test_province_steward_sees_no_other_province(world):
    report = build_report(world.users["province_steward"], {})
    far = world.institutions["far"].pk
    assert far not in {int(row.value) for row in report.breakdowns["holder"].rows}
    assert report.total == sum(1 for a in world.assets if a.holder.region_id.startswith("33"))
    # Runs: only the province's finished ones.
    assert {row.run.pk for row in report.runs} == {world.runs[0].pk, world.runs[1].pk}
    assert sorted(row.found for row in report.runs) == [4, 4]


def test_county_report_matches_its_county_exactly(world):
    county = build_report(world.users["xihu_steward"], {})
    from_province = build_report(world.users["province_steward"], {"region": region("330106")})
    assert figures(county) == figures(from_province) == expected(
        world, "province_steward", prefix="330106"
    )
    # At the county level the region breakdown lists its institutions.
    assert county.region.code == "330106"
    assert {int(row.value) for row in county.breakdowns["region"].rows} == {
        world.institutions["xihu_a"].pk, world.institutions["xihu_b"].pk
    }


def test_province_equals_the_sum_of_its_counties(world):
    users = world.users
    province = build_report(users["province_steward"], {})
    by_city = {row.value: row.count for row in province.breakdowns["region"].rows}
    counties = {
        code: build_report(users[key], {}).total
        for code, key in (("330106", "xihu_steward"), ("330102", "shangcheng_steward"),
                          ("330203", "haishu_steward"))
    }
    assert by_city["330100"] == counties["330106"] + counties["330102"]
    assert by_city["330200"] == counties["330203"]
    # What no county holds (the provincial commission's own assets) is shown apart.
    assert by_city[""] == 2
    assert sum(by_city.values()) == province.total == sum(counties.values()) + 2
    # Drilled down to a city, the counties' rows are the county stewards' totals.
    city = build_report(users["province_steward"], {"region": region("330100")})
    assert {row.value: row.count for row in city.breakdowns["region"].rows} == {
        "330106": counties["330106"], "330102": counties["330102"]
    }
    for key in ("findings", "stale", "without_holder", "expiring", "status", "grade"):
        summed = [figures(build_report(users[k], {}))[key] for k in
                  ("xihu_steward", "shangcheng_steward", "haishu_steward")]
        county_sum = sum(summed, Counter()) if isinstance(summed[0], Counter) else sum(summed)
        own = figures(build_report(users["province_steward"], {}))[key]
        extra = expected(world, "province_steward", prefix="330000")[key]
        assert own == county_sum + extra, key


@pytest.mark.parametrize("filters", [
    {"grade": 3},
    {"status": AssetStatus.DRAFT},
    {"category": DataCategory.HEALTH_RESOURCES},
    {"sharing_type": "not_shared"},
    {"institution_type": "hospital_tertiary"},
    {"institution_type": "community_centre", "grade": 2},
])
def test_filters_narrow_every_figure(world, filters):
    report = build_report(world.users["province_steward"], dict(filters))
    assert figures(report) == expected(world, "province_steward", **filters)


def test_page_shows_the_figures(client, world):
    client.force_login(world.users["staff"])
    response = client.get(URL)
    assert response.status_code == 200
    report = response.context["report"]
    assert figures(report) == expected(world, "staff")
    body = response.content.decode()
    assert "Inventory report" in body and 'href="?region=330100"' in body
    assert reverse("reports:report") in body  # the navigation link


def test_page_filters_and_ignores_invalid_values(client, world):
    client.force_login(world.users["auditor"])
    response = client.get(URL, {"grade": "3", "status": "nonsense", "category": "x"})
    assert response.status_code == 200
    assert figures(response.context["report"]) == expected(world, "auditor", grade=3)


def test_drill_down_province_city_county_institution(client, world):
    client.force_login(world.users["province_steward"])
    levels = []
    for code in (None, "330100", "330106"):
        response = client.get(URL, {"region": code, "grade": "3"} if code else {"grade": "3"})
        assert response.status_code == 200
        rows = response.context["report"].breakdowns["region"].rows
        levels.append({row.value for row in rows})
        body = response.content.decode()
        for row in rows:
            if row.drill:
                assert f'href="?region={row.drill}&amp;grade=3"' in body
    assert levels[0] <= {"330100", "330200", ""}
    assert levels[1] <= {"330106", "330102"}
    assert levels[2] <= {str(world.institutions["xihu_a"].pk), str(world.institutions["xihu_b"].pk)}
    assert figures(client.get(URL, {"region": "330106", "grade": "3"}).context["report"]) == (
        expected(world, "province_steward", prefix="330106", grade=3)
    )


def test_user_without_report_reach_is_refused(client, world):
    client.force_login(world.users["registrar"])
    assert client.get(URL).status_code == 403
    assert b"Reports" not in client.get(reverse("catalog:asset_list")).content


def test_anonymous_is_sent_to_log_in(client, world):
    response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize(("user_key", "code"), [
    ("province_steward", "440106"),  # another province
    ("province_steward", "440000"),
    ("xihu_steward", "330102"),  # a neighbouring county
    ("xihu_steward", "330100"),  # its own city, above the county
    ("city_steward", "330203"),  # a county of another city
    ("province_steward", "999999"),  # no such division
])
def test_region_outside_the_jurisdiction_is_not_found(client, world, user_key, code):
    client.force_login(world.users[user_key])
    assert client.get(URL, {"region": code}).status_code == 404


def test_region_inside_the_jurisdiction_is_allowed(client, world):
    client.force_login(world.users["city_steward"])
    assert client.get(URL, {"region": "330106"}).status_code == 200
    assert client.get(URL, {"region": "330100"}).status_code == 200


def test_queries_do_not_grow_with_the_assets(client, world):
    client.force_login(world.users["province_steward"])
    client.get(URL)  # warm the session and the reach
    counts = []
    for extra in (5, 50):
        make_assets(world.institutions["haishu"], extra)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL, {"region": "330200"}).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[0] <= 20
