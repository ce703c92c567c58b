"""Who sees and edits what: the role × jurisdiction matrix, through querysets and pages.

A hidden asset answers 404 exactly like a missing one; an asset one may see but not edit
answers 404 on its edit page.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.choices import InstitutionType, Role
from catalog.choices import AssetStatus, OpenAttribute, SharingType
from catalog.models import DataAsset

from ..factories import DataAssetFactory, InstitutionFactory, MembershipFactory, UserFactory, region

pytestmark = pytest.mark.django_db

ALL = {"h_cond", "h_draft", "o_cond", "city_not_shared", "open33", "far_cond", "open44",
       "draft_open44", "unconditional_closed44", "conditional_open44"}
OPEN = {"open33", "open44"}


@pytest.fixture
def world():
    """Institutions and assets across two provinces, and a user for each role."""
    zj = InstitutionFactory(commission=True, name="浙江省卫健委", region=region("33"))
    hz = InstitutionFactory(commission=True, name="杭州市卫健委", region=region("3301"))
    gd = InstitutionFactory(commission=True, name="广东省卫健委", region=region("44"))
    national = InstitutionFactory(commission=True, name="国家卫健委", region=None)
    h = InstitutionFactory(name="西湖医院", region=region("330106"))
    o = InstitutionFactory(name="海曙医院", region=region("330203"))
    c = InstitutionFactory(name="上城社区卫生服务中心", region=region("330102"),
                           type=InstitutionType.COMMUNITY_HEALTH_CENTRE)
    cdc = InstitutionFactory(name="浙江省疾控中心", region=region("33"), type=InstitutionType.CDC)
    far = InstitutionFactory(name="天河医院", region=region("440106"))

    assets = {
        "h_cond": DataAssetFactory(holder=h),
        "h_draft": DataAssetFactory(holder=h, status=AssetStatus.DRAFT),
        "o_cond": DataAssetFactory(holder=o),
        "city_not_shared": DataAssetFactory(
            holder=c, sharing_type=SharingType.NOT_SHARED, sharing_condition="《数据安全法》"
        ),
        "open33": DataAssetFactory(holder=o, open=True),
        "far_cond": DataAssetFactory(holder=far),
        "open44": DataAssetFactory(holder=far, open=True),
        "draft_open44": DataAssetFactory(holder=far, open=True, status=AssetStatus.DRAFT),
        "unconditional_closed44": DataAssetFactory(
            holder=far, open=True, open_attribute=OpenAttribute.NOT_OPEN
        ),
        "conditional_open44": DataAssetFactory(
            holder=far, open=True, sharing_type=SharingType.CONDITIONAL, sharing_condition="审批"
        ),
    }

    def member(username, institution, role, **kwargs):
        return MembershipFactory(
            user=UserFactory(username=username), institution=institution, role=role, **kwargs
        ).user

    users = {
        "anonymous": AnonymousUser(),
        "superuser": UserFactory(username="root", is_superuser=True, is_staff=True),
        "steward33": member("steward33", zj, Role.STEWARD),
        "steward3301": member("steward3301", hz, Role.STEWARD),
        "steward44": member("steward44", gd, Role.STEWARD),
        "national_steward": member("national", national, Role.STEWARD),
        "staff33": member("staff33", zj, Role.COMMISSION_STAFF),
        "auditor33": member("auditor33", zj, Role.AUDITOR),
        "registrar_h": member("registrar_h", h, Role.REGISTRAR),
        "admin_h": member("admin_h", h, Role.INSTITUTION_ADMIN),
        "officer": member("officer", cdc, Role.PUBLIC_HEALTH_OFFICER),
        "lapsed_steward": member("lapsed", zj, Role.STEWARD, is_active=False),
        "nobody": UserFactory(username="nobody"),
        "inactive_steward": member("inactive", zj, Role.STEWARD),
    }
    users["inactive_steward"].is_active = False
    users["inactive_steward"].save()
    assert set(assets) == ALL
    return assets, users


IN_33 = {"h_cond", "h_draft", "o_cond", "city_not_shared", "open33"}
IN_3301 = {"h_cond", "h_draft", "city_not_shared"}
IN_44 = ALL - IN_33
OF_H = {"h_cond", "h_draft"}

# user → (visible, editable)
MATRIX = {
    "anonymous": (OPEN, set()),
    "superuser": (ALL, ALL),
    "steward33": (IN_33 | OPEN, IN_33),
    "steward3301": (IN_3301 | OPEN, IN_3301),
    "steward44": (IN_44 | OPEN, IN_44),
    "national_steward": (ALL, ALL),
    "staff33": (IN_33 | OPEN, set()),
    "auditor33": (IN_33 | OPEN, set()),
    "registrar_h": (OF_H | OPEN, OF_H),
    "admin_h": (OF_H | OPEN, OF_H),
    "officer": (OPEN, set()),
    "lapsed_steward": (OPEN, set()),
    "nobody": (OPEN, set()),
    "inactive_steward": (OPEN, set()),
}


def keys(assets, queryset) -> set[str]:
    by_pk = {asset.pk: key for key, asset in assets.items()}
    return {by_pk[pk] for pk in queryset.values_list("pk", flat=True)}


@pytest.mark.parametrize("who", list(MATRIX))
def test_visible_and_editable_sets(world, who):
    assets, users = world
    visible, editable = MATRIX[who]
    user = users[who]
    assert keys(assets, DataAsset.objects.visible_to(user)) == visible
    assert keys(assets, DataAsset.objects.editable_by(user)) == editable


def test_open_catalog_needs_all_three_conditions(world):
    assets, _users = world
    for key, asset in assets.items():
        is_open = (
            asset.status == AssetStatus.REGISTERED
            and asset.sharing_type == SharingType.UNCONDITIONAL
            and asset.open_attribute == OpenAttribute.OPEN
        )
        assert is_open == (key in OPEN), key


def test_reach_is_computed_once_per_request_user(world):
    _assets, users = world
    user = users["steward33"]
    with CaptureQueriesContext(connection) as first:
        list(DataAsset.objects.visible_to(user))
    with CaptureQueriesContext(connection) as second:
        list(DataAsset.objects.visible_to(user))
    assert len(second) == len(first) - 1


def test_scoping_composes_with_other_filters(world):
    assets, users = world
    qs = DataAsset.objects.filter(status=AssetStatus.DRAFT).visible_to(users["steward33"])
    assert keys(assets, qs) == {"h_draft"}


@pytest.mark.parametrize("who", list(MATRIX))
def test_pages_answer_404_for_what_is_out_of_reach(world, client, who):
    assets, users = world
    visible, editable = MATRIX[who]
    if who != "anonymous":
        client.force_login(users[who])
    if not users[who].is_active:
        visible, editable = OPEN, set()
    for key, asset in assets.items():
        detail = client.get(reverse("catalog:asset_detail", args=[asset.pk]))
        assert detail.status_code == (200 if key in visible else 404), (who, key)
        edit = client.get(reverse("catalog:asset_edit", args=[asset.pk]))
        if who == "anonymous" or not users[who].is_active:
            assert edit.status_code == 302, (who, key)  # to the login page
            assert reverse("login") in edit["Location"]
        else:
            assert edit.status_code == (200 if key in editable else 404), (who, key)


def test_edit_link_only_for_editors(world, client):
    assets, users = world
    client.force_login(users["staff33"])
    page = client.get(reverse("catalog:asset_detail", args=[assets["h_cond"].pk]))
    edit_url = reverse("catalog:asset_edit", args=[assets["h_cond"].pk])
    assert edit_url not in page.content.decode()
    client.force_login(users["registrar_h"])
    page = client.get(reverse("catalog:asset_detail", args=[assets["h_cond"].pk]))
    assert edit_url in page.content.decode()


def test_post_to_an_asset_out_of_edit_reach_is_404_and_changes_nothing(world, client):
    assets, users = world
    asset = assets["far_cond"]
    before = DataAsset.objects.filter(pk=asset.pk).values().get()
    history = asset.history.count()
    client.force_login(users["steward33"])
    response = client.post(
        reverse("catalog:asset_edit", args=[asset.pk]),
        {"name": "篡改", "version": asset.version, "change_reason": "x"},
    )
    assert response.status_code == 404
    assert DataAsset.objects.filter(pk=asset.pk).values().get() == before
    assert asset.history.count() == history


def test_missing_asset_is_404(client, superuser):
    client.force_login(superuser)
    assert client.get(reverse("catalog:asset_detail", args=[999_999])).status_code == 404


@pytest.mark.parametrize("who", list(MATRIX))
def test_list_page_shows_exactly_the_visible_assets(world, client, settings, who):
    settings.CATALOG_PAGE_SIZE = 50
    assets, users = world
    visible, _editable = MATRIX[who]
    if who != "anonymous":
        client.force_login(users[who])
    response = client.get(reverse("catalog:asset_list"))
    assert response.status_code == 200
    shown = {asset.pk for asset in response.context["page"].items}
    assert shown == {assets[key].pk for key in visible}
    page = response.content.decode()
    for key, asset in assets.items():
        assert (asset.code in page) == (key in visible), (who, key)
    assert response.context["facets"].total == len(visible)
