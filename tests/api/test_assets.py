"""The asset endpoints through the permission matrix: list, detail, history and PATCH
answer exactly what the one scoping rule allows; a hidden asset is 404."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.authtoken.models import Token

from catalog.filtersets import DataAssetFilterSet
from catalog.models import DataAsset

from ..catalog.test_scoping import MATRIX, OPEN
from ..factories import DataAssetFactory, InstitutionFactory, region
from .conftest import as_user, keys, walk

pytestmark = pytest.mark.django_db

LIST = reverse("api:asset-list")

# The matrix of the catalog's scoping tests, with the officer's grant (see granted_world).
API_MATRIX = {**MATRIX, "officer": (OPEN | {"far_cond"}, set())}
API_MATRIX["inactive_steward"] = (OPEN, set())  # a deactivated account is anonymous


def detail(pk):
    return reverse("api:asset-detail", args=[pk])




@pytest.mark.parametrize("who", list(API_MATRIX))
def test_list_and_detail_follow_the_scoping_rule(granted_world, api, who):
    assets, users = granted_world
    visible, _editable = API_MATRIX[who]
    user = users[who]
    if user.is_authenticated and user.is_active:
        as_user(api, user)
    listed = [row["id"] for row in walk(api, LIST)]
    assert len(listed) == len(set(listed))
    assert keys(assets, listed) == visible
    if user.is_active:
        assert set(listed) == set(DataAsset.objects.visible_to(user).values_list("pk", flat=True))
    for key, asset in assets.items():
        response = api.get(detail(asset.pk))
        assert response.status_code == (200 if key in visible else 404), (who, key)
        history = api.get(reverse("api:asset-history", args=[asset.pk]))
        assert history.status_code == (200 if key in visible else 404), (who, key)
        if key not in visible:
            # A hidden asset is indistinguishable from a missing one.
            assert response.json() == api.get(detail(10**9)).json()


def test_representation(granted_world, api):
    assets, users = granted_world
    asset = assets["open33"]
    data = api.get(detail(asset.pk)).json()
    assert data["code"] == asset.code
    assert data["holder"] == {
        "id": asset.holder_id, "name": asset.holder.name, "credit_code": asset.holder.credit_code
    }
    assert (data["region"], data["region_province"], data["region_city"]) == (
        "330203", "330000", "330200"
    )
    assert data["categories"] == ["health_resources"]
    assert data["grade"] == 1 and data["grade_label"]
    assert data["sharing_type"] == "unconditional"
    assert data["version"] == asset.version
    # The responsible person's contact details: signed-in users only, as on the page.
    assert "responsible_phone" not in data
    as_user(api, users["steward33"])
    assert api.get(detail(asset.pk)).json()["responsible_phone"] == asset.responsible_phone


def test_labels_follow_the_request_language(granted_world):
    from rest_framework.test import APIClient

    assets, _users = granted_world
    pk = assets["open33"].pk
    english = APIClient(HTTP_ACCEPT_LANGUAGE="en").get(detail(pk)).json()
    chinese = APIClient(HTTP_ACCEPT_LANGUAGE="zh-hans").get(detail(pk)).json()
    assert english["sharing_type"] == chinese["sharing_type"] == "unconditional"
    assert english["sharing_type_label"] != chinese["sharing_type_label"]
    assert chinese["sharing_type_label"] == "无条件共享"


def test_list_query_count_does_not_grow_with_the_page(db, api, superuser):
    holders = [InstitutionFactory(region=region("330106")) for _ in range(3)]
    for i in range(30):
        DataAssetFactory(holder=holders[i % 3])
    as_user(api, superuser)
    with CaptureQueriesContext(connection) as small:
        assert len(api.get(LIST, {"page_size": 2}).data["results"]) == 2
    with CaptureQueriesContext(connection) as large:
        assert len(api.get(LIST, {"page_size": 30}).data["results"]) == 30
    assert len(large) == len(small)
    assert len(large) <= 6, [q["sql"] for q in large]


def test_cursor_walks_every_row_once(db, api, superuser):
    for _ in range(23):
        DataAssetFactory()
    as_user(api, superuser)
    rows = walk(api, LIST, {"page_size": 5})
    ids = [row["id"] for row in rows]
    assert ids == sorted(ids, reverse=True)
    assert set(ids) == set(DataAsset.objects.values_list("pk", flat=True))
    assert len(ids) == 23
    # Backwards from the last page too.
    last = api.get(LIST, {"page_size": 5})
    while last.data["next"]:
        last = api.get(last.data["next"])
    back = api.get(last.data["previous"])
    assert [r["id"] for r in back.data["results"]] == ids[-8:-3]


def test_page_size_is_capped(db, api):
    for _ in range(3):
        DataAssetFactory(open=True)
    response = api.get(LIST, {"page_size": 100000})
    assert response.status_code == 200
    response = api.get(LIST, {"page_size": "abc"})
    assert response.status_code == 200


@pytest.mark.parametrize("params", [
    {"grade": "3"}, {"grade": "1"}, {"sharing_type": "unconditional"}, {"status": "draft"},
    {"category": "health_status"}, {"region": "330106"}, {"region": "33"}, {"region": "440000"},
    {"q": "门诊"}, {"update_frequency": "daily"}, {"grade": "1", "region": "440000"},
])
@pytest.mark.parametrize("who", ["superuser", "steward33", "anonymous"])
def test_filters_give_the_page_filtersets_ids(granted_world, api, params, who):
    assets, users = granted_world
    user = users[who]
    as_user(api, user)
    if "region" in params and len(params["region"]) < 6:
        params = {**params, "region": params["region"].ljust(6, "0")}
    expected = DataAssetFilterSet(params, queryset=DataAsset.objects.visible_to(user))
    assert expected.is_valid()
    listed = {row["id"] for row in walk(api, LIST, params)}
    assert listed == set(expected.qs.values_list("pk", flat=True))


def test_holder_filter(granted_world, api):
    assets, users = granted_world
    as_user(api, users["superuser"])
    holder = assets["open44"].holder_id
    listed = {row["id"] for row in walk(api, LIST, {"holder": holder})}
    assert listed == set(DataAsset.objects.filter(holder=holder).values_list("pk", flat=True))


def test_history_lists_versions_with_actor_reason_and_changes(granted_world, api):
    assets, users = granted_world
    asset = assets["h_cond"]
    as_user(api, users["registrar_h"])
    response = api.patch(detail(asset.pk), {
        "record_count": 4321, "version": asset.version, "reason": "年度清查",
    }, format="json")
    assert response.status_code == 200, response.content
    entries = api.get(reverse("api:asset-history", args=[asset.pk])).json()["results"]
    newest = entries[0]
    assert newest["type"] == "~"
    assert newest["reason"] == "年度清查"
    assert newest["actor"]["id"] == users["registrar_h"].pk
    assert {"field": "record_count", "label": "records", "old": 1000, "new": 4321} in (
        newest["changes"]
    )
    assert entries[-1]["type"] == "+"


def test_history_pages_diff_across_the_page_boundary(db, api, superuser):
    asset = DataAssetFactory(open=True)
    as_user(api, superuser)
    for n in range(4):
        asset.refresh_from_db()
        api.patch(detail(asset.pk), {"record_count": n, "version": asset.version,
                                     "reason": f"r{n}"}, format="json")
    url = reverse("api:asset-history", args=[asset.pk])
    entries = walk(api, url, {"page_size": 2})
    assert [e["type"] for e in entries] == ["~"] * 4 + ["+"]
    assert [e["changes"][0]["new"] for e in entries[:4]] == [3, 2, 1, 0]
    assert entries[2]["changes"] == [
        {"field": "record_count", "label": "records", "old": 0, "new": 1}
    ]


def test_token_authentication(granted_world, api):
    assets, users = granted_world
    user = users["registrar_h"]
    user.set_password("secret-pass-123")
    user.save()
    response = api.post(reverse("api:token"), {"username": user.username,
                                               "password": "secret-pass-123"}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    assert token == Token.objects.get(user=user).key
    machine = type(api)(HTTP_ACCEPT_LANGUAGE="en", HTTP_AUTHORIZATION=f"Token {token}")
    assert machine.get(detail(assets["h_draft"].pk)).status_code == 200
    bad = type(api)(HTTP_ACCEPT_LANGUAGE="en", HTTP_AUTHORIZATION="Token nonsense")
    response = bad.get(detail(assets["h_draft"].pk))
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    wrong = api.post(reverse("api:token"), {"username": user.username, "password": "x"},
                     format="json")
    assert wrong.status_code == 400
