"""PATCH /api/assets/<id>/: the edit page's form and service, answered in JSON.

Allowed → 200, a history row with actor and reason; visible but not editable → 403;
hidden → 404; stale version → 409; bad value → 400 with field messages. Whenever the
answer is not 200, nothing in the database has changed.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from catalog.models import DataAsset

from ..catalog.test_scoping import ALL
from .conftest import as_user
from .test_assets import API_MATRIX

pytestmark = pytest.mark.django_db


def url(asset):
    return reverse("api:asset-detail", args=[asset.pk])


def snapshot(asset):
    return (DataAsset.objects.filter(pk=asset.pk).values().get(), asset.history.count())


@pytest.mark.parametrize("who", [w for w in API_MATRIX if w != "anonymous"])
def test_patch_through_the_matrix(granted_world, api, who):
    assets, users = granted_world
    visible, editable = API_MATRIX[who]
    user = users[who]
    if user.is_active:
        as_user(api, user)
    else:  # a deactivated account's token no longer works
        api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    for key in sorted(ALL):
        asset = assets[key]
        asset.refresh_from_db()
        before = snapshot(asset)
        response = api.patch(url(asset), {
            "storage_location": f"政务云 {who}", "version": asset.version, "reason": "核对",
        }, format="json")
        if not user.is_active:
            expected = 401
        elif key in editable:
            expected = 200
        elif key in visible:
            expected = 403
        else:
            expected = 404
        assert response.status_code == expected, (who, key, response.content)
        if expected == 200:
            asset.refresh_from_db()
            assert asset.storage_location == f"政务云 {who}"
            record = asset.history.order_by("-history_id").first()
            assert record.history_user_id == user.pk
            assert record.history_change_reason == "核对"
            assert response.json()["version"] == before[0]["version"] + 1
        else:
            assert snapshot(asset) == before, (who, key)
            assert set(response.json()) >= {"detail", "code"}


def test_anonymous_patch_is_401(granted_world, api):
    assets, _users = granted_world
    asset = assets["open33"]
    before = snapshot(asset)
    response = api.patch(url(asset), {"name": "x", "version": 1, "reason": "x"}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert snapshot(asset) == before


def test_patch_with_a_token(granted_world):
    assets, users = granted_world
    token = Token.objects.create(user=users["registrar_h"])
    machine = APIClient(HTTP_AUTHORIZATION=f"Token {token.key}", HTTP_ACCEPT_LANGUAGE="en")
    asset = assets["h_cond"]
    response = machine.patch(url(asset), {"record_count": 5, "version": asset.version,
                                          "reason": "接口同步"}, format="json")
    assert response.status_code == 200, response.content
    record = asset.history.order_by("-history_id").first()
    assert (record.history_user_id, record.history_change_reason) == (
        users["registrar_h"].pk, "接口同步"
    )


def test_stale_version_is_409_and_changes_nothing(granted_world, api):
    assets, users = granted_world
    asset = assets["h_cond"]
    as_user(api, users["registrar_h"])
    first = api.patch(url(asset), {"record_count": 1, "version": asset.version,
                                   "reason": "a"}, format="json")
    assert first.status_code == 200
    before = snapshot(asset)
    stale = api.patch(url(asset), {"record_count": 2, "version": asset.version,
                                   "reason": "b"}, format="json")
    assert stale.status_code == 409
    body = stale.json()
    assert body["code"] == "stale_version"
    assert body["current_version"] == asset.version + 1
    assert "Nothing was saved" in body["detail"]
    assert snapshot(asset) == before


@pytest.mark.parametrize(("payload", "field"), [
    ({"grade": 9}, "grade"),
    ({"grade": "high"}, "grade"),
    ({"record_count": -1}, "record_count"),
    ({"record_count": 10**30}, "record_count"),
    ({"record_count": "many"}, "record_count"),
    ({"name": ""}, "name"),
    ({"name": {"a": 1}}, "name"),
    ({"name": "a\x00b"}, "name"),
    ({"categories": "health_status"}, "categories"),
    ({"categories": ["nonsense"]}, "categories"),
    ({"sharing_type": "not_shared", "sharing_condition": ""}, "sharing_condition"),
    ({"open_attribute": "open"}, "open_attribute"),  # grade 3 cannot be opened
    ({"temporal_start": "2024-05-01", "temporal_end": "2023-01-01"}, "temporal_end"),
    ({"temporal_start": "not a date"}, "temporal_start"),
    ({"spatial_coverage": "999999"}, "spatial_coverage"),
    ({"catalog_class": "NOPE"}, "catalog_class"),
    ({"contains_personal_info": "yes"}, "contains_personal_info"),
    ({"code": "NEW-CODE"}, "code"),
    ({"status": "draft"}, "status"),
    ({"holder": 1}, "holder"),
    ({"version": None}, "version"),
    ({"version": "1"}, "version"),
    ({"reason": ""}, "reason"),
    ({"reason": None}, "reason"),
])
def test_invalid_values_are_400_field_errors_and_change_nothing(
    granted_world, api, payload, field
):
    assets, users = granted_world
    asset = assets["h_cond"]
    as_user(api, users["registrar_h"])
    before = snapshot(asset)
    body = {"version": asset.version, "reason": "核对", **payload}
    response = api.patch(url(asset), body, format="json")
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors, errors
    assert all(isinstance(m, str) for m in errors[field])
    assert snapshot(asset) == before


def test_reason_and_version_are_required(granted_world, api):
    assets, users = granted_world
    asset = assets["h_cond"]
    as_user(api, users["registrar_h"])
    response = api.patch(url(asset), {"record_count": 3}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"version", "reason"}


def test_field_errors_in_chinese(granted_world):
    assets, users = granted_world
    asset = assets["h_cond"]
    client = APIClient(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_authenticate(users["registrar_h"])
    response = client.patch(url(asset), {"sharing_type": "not_shared", "sharing_condition": "",
                                         "version": asset.version, "reason": "核对"},
                            format="json")
    assert response.status_code == 400
    message = response.json()["sharing_condition"][0]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message


def test_patch_cannot_move_an_asset_out_of_reach(granted_world, api):
    """A registrar may not change an asset so that it leaves their reach (the service's
    re-check); here by nothing the form offers, so the check is the model's: the holder
    cannot be changed at all."""
    assets, users = granted_world
    asset = assets["h_cond"]
    as_user(api, users["registrar_h"])
    response = api.patch(url(asset), {"holder": assets["far_cond"].holder_id,
                                      "version": asset.version, "reason": "x"}, format="json")
    assert response.status_code == 400


def test_unchanged_patch_writes_nothing(granted_world, api):
    assets, users = granted_world
    asset = assets["h_cond"]
    as_user(api, users["registrar_h"])
    before = snapshot(asset)
    response = api.patch(url(asset), {"record_count": asset.record_count,
                                      "version": asset.version, "reason": "x"}, format="json")
    assert response.status_code == 200
    assert snapshot(asset) == before


def test_patch_of_several_fields_round_trips(granted_world, api):
    assets, users = granted_world
    asset = assets["h_cond"]
    as_user(api, users["steward33"])
    response = api.patch(url(asset), {
        "categories": ["health_status", "public_health"], "purposes": ["research"],
        "grade": 4, "security_class": "important", "temporal_start": "2020-01-01",
        "spatial_coverage": "330100", "stored_in_country": False, "record_count": None,
        "version": asset.version, "reason": "分级复核",
    }, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["categories"] == ["health_status", "public_health"]
    assert data["grade"] == 4 and data["security_class"] == "important"
    assert data["spatial_coverage"] == "330100" and data["stored_in_country"] is False
    assert data["record_count"] is None and data["temporal_start"] == "2020-01-01"
    asset.refresh_from_db()
    assert asset.last_data_update is not None  # untouched fields keep their stored values
