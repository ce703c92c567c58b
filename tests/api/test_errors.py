"""Errors a client can act on: JSON ``detail`` + ``code`` for 401/403/404/409/429, DRF's
field dictionary for 400, and never a 500 for bad input."""

from __future__ import annotations

import base64

import pytest
from django.urls import reverse
from rest_framework.throttling import AnonRateThrottle

from ..factories import DataAssetFactory
from .conftest import as_user

pytestmark = pytest.mark.django_db

LIST = reverse("api:asset-list")


@pytest.mark.parametrize("params", [
    {"grade": "9"}, {"grade": "x"}, {"sharing_type": "nope"}, {"region": "12"},
    {"region": "abcdef"}, {"region": "a\x00"}, {"holder": "1e30"}, {"holder": "-1"},
    {"holder": "99999999999999999999999"}, {"q": "a\x00b"}, {"q": "x" * 500}, {"q": "!!!"},
    {"catalog_class": "NOPE"}, {"category": "x"},
])
def test_bad_filter_values_are_400_with_field_messages(db, api, params):
    response = api.get(LIST, params)
    assert response.status_code == 400, response.content
    assert set(response.json()) <= {*params, "non_field_errors"}


@pytest.mark.parametrize("cursor", [
    "garbage", "", "%%%", base64.b64encode(b"p=abc").decode(), base64.b64encode(b"p=-1").decode(),
    base64.b64encode(b"p=99999999999999999999999").decode(), base64.b64encode(b"o=-5").decode(),
    base64.b64encode(b"p=\x00").decode(),
])
def test_bad_cursor_is_400_or_a_page_never_500(db, api, cursor):
    DataAssetFactory(open=True)
    response = api.get(LIST, {"cursor": cursor})
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        assert "cursor" in response.json()


@pytest.mark.parametrize("pk", ["abc", "0", "-1", "99999999999999999999999", "1.5"])
def test_odd_ids_are_json_404(db, api, pk):
    response = api.get(f"/api/assets/{pk}/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_malformed_json_and_wrong_media_type(db, api, superuser):
    asset = DataAssetFactory()
    as_user(api, superuser)
    url = reverse("api:asset-detail", args=[asset.pk])
    response = api.patch(url, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    response = api.patch(url, "name=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    for body in ([1, 2], "text", 5, None):
        response = api.patch(url, body, format="json")
        assert response.status_code == 400, (body, response.content)


def test_method_not_allowed_is_json(db, api, superuser):
    as_user(api, superuser)
    response = api.delete(reverse("api:asset-detail", args=[DataAssetFactory().pk]))
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert api.post(LIST, {}, format="json").status_code == 405


def test_throttled_is_429_with_json(db, api, monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "rate", "2/minute", raising=False)
    for _ in range(2):
        assert api.get(LIST).status_code == 200
    response = api.get(LIST)
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "throttled" and body["detail"] and body["wait"] > 0
