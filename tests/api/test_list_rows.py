"""The asset list's fast path (rows read as values, api/rows.py), the throttles and the
JSON renderer: each answers exactly what the slower standard path would."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from django.utils import translation
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from api.renderers import FastJSONRenderer
from api.serializers import DataAssetSerializer
from api.views import ASSET_ROWS
from catalog.choices import DataCategory, Purpose
from catalog.models import CatalogClass, DataAsset

from ..factories import DataAssetFactory, UserFactory, region
from .conftest import as_user

pytestmark = pytest.mark.django_db

LIST = reverse("api:asset-list")


@pytest.fixture
def varied(db):
    """Assets that exercise every kind of field: nulls, lists, a class, dates, times."""
    klass = CatalogClass.objects.order_by("pk").first()
    return [
        DataAssetFactory(open=True, catalog_class=klass, name_en="Outpatient records",
                         categories=[DataCategory.HEALTH_RESOURCES, DataCategory.PUBLIC_HEALTH],
                         purposes=[Purpose.RESEARCH, Purpose.MANAGEMENT],
                         temporal_start=date(2020, 1, 1), temporal_end=date(2024, 12, 31),
                         spatial_coverage=region("330106"), storage_bytes=2**40,
                         registered_at=datetime(2025, 3, 1, 2, 3, 4, 567891, tzinfo=UTC),
                         responsible_email="zhang@example.org"),
        DataAssetFactory(open=True, catalog_class=None, last_data_update=None,
                         record_count=None, purposes=[], registered_at=None),
        DataAssetFactory(open=True, grade=2, individual_count=0, stored_in_country=False),
    ]


def standard(assets, request) -> list[dict]:
    """What DRF's serializer makes of the same assets, newest first."""
    ordered = DataAsset.objects.filter(pk__in=[a.pk for a in assets]).order_by("-id")
    return json.loads(JSONRenderer().render(
        DataAssetSerializer(ordered, many=True, context={"request": request}).data))


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("signed_in", [False, True])
def test_list_equals_the_serializer_field_for_field(varied, api, language, signed_in):
    user = UserFactory(is_superuser=True) if signed_in else None
    request = APIRequestFactory().get(LIST)
    if user:
        as_user(api, user)
        force_authenticate(request, user)
    request.user = user or AnonymousUser()
    with translation.override(language):
        expected = standard(varied, request)
    response = api.get(LIST, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    listed = [row for row in response.json()["results"] if row["id"] in {a.pk for a in varied}]
    assert listed == expected
    assert ("responsible_phone" in listed[0]) is signed_in
    # Labels really are in the request's language.
    assert listed[0]["grade_label"] == expected[0]["grade_label"]


def test_every_serializer_field_is_planned():
    assert [step.key for step in ASSET_ROWS.steps] == list(DataAssetSerializer().fields)


def test_a_field_the_plan_cannot_flatten_is_refused():
    from rest_framework import serializers

    from api.rows import FlatRepresentation

    class Odd(serializers.ModelSerializer):
        odd = serializers.SerializerMethodField()

        class Meta:
            model = DataAsset
            fields = ["id", "odd"]

    with pytest.raises(TypeError, match="odd"):
        FlatRepresentation(Odd)


def test_the_list_reads_one_row_set_for_the_page(varied, api, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert api.get(LIST).status_code == 200


# --- Throttles ---------------------------------------------------------------------------


def test_the_public_is_counted_by_address_and_only_once(db, api, monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "rate", "3/minute", raising=False)
    monkeypatch.setattr(UserRateThrottle, "rate", "2/minute", raising=False)
    codes = [api.get(LIST).status_code for _ in range(4)]
    # The user rate (2) does not apply to the public: only the anonymous one (3) does.
    assert codes == [200, 200, 200, 429]
    other = api.get(LIST, REMOTE_ADDR="10.1.2.3")
    assert other.status_code == 200


def test_signed_in_users_are_counted_by_account(db, api, monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "rate", "1/minute", raising=False)
    monkeypatch.setattr(UserRateThrottle, "rate", "2/minute", raising=False)
    as_user(api, UserFactory())
    codes = [api.get(LIST, REMOTE_ADDR=f"10.0.0.{n}").status_code for n in range(3)]
    assert codes == [200, 200, 429]
    as_user(api, UserFactory())
    assert api.get(LIST).status_code == 200
    body = api.get(LIST, REMOTE_ADDR="10.0.0.9")
    assert body.status_code == 200


def test_a_throttled_answer_says_how_long_to_wait(db, api, monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "rate", "1/hour", raising=False)
    api.get(LIST)
    response = api.get(LIST)
    assert response.status_code == 429
    assert 0 < response.json()["wait"] <= 3600
    assert 0 < int(response["Retry-After"]) <= 3600


# --- Renderer ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [
    {"a": "中文", "b": [1, 2.5, None, True], "c": {"d": "x\u2028y"}},
    {"when": datetime(2025, 3, 1, 2, 3, 4, 567891, tzinfo=UTC), "day": date(2025, 3, 1)},
    {"lazy": translation.gettext_lazy("Status"), 7: "int key"},
])
def test_fast_json_writes_what_drf_writes(value):
    assert json.loads(FastJSONRenderer().render(value)) == json.loads(JSONRenderer().render(value))


def test_text_that_is_not_unicode_is_escaped_not_a_server_error():
    body = FastJSONRenderer().render({"detail": "\ud800 is not a valid choice."})
    assert json.loads(body) == {"detail": "\ud800 is not a valid choice."}


def test_indented_json_on_request(varied, api):
    response = api.get(LIST, HTTP_ACCEPT="application/json; indent=2")
    assert response.content.startswith(b'{\n  "')


# --- The public's cached pages -----------------------------------------------------------


@pytest.fixture
def public_cache(settings):
    settings.API_PUBLIC_CACHE_SECONDS = 300


def test_a_public_page_is_made_once_and_stays_true(varied, api, public_cache,
                                                   django_assert_num_queries,
                                                   django_capture_on_commit_callbacks):
    first = api.get(LIST).json()
    with django_assert_num_queries(0):
        assert api.get(LIST).json() == first
    # Any write to an asset makes the page stale at once (after its transaction commits).
    asset = varied[0]
    with django_capture_on_commit_callbacks(execute=True):
        DataAsset.objects.filter(pk=asset.pk).update(record_count=424242)
    again = api.get(LIST).json()
    assert {row["id"]: row["record_count"] for row in again["results"]}[asset.pk] == 424242
    # ... and so does a new asset in the open catalog.
    with django_capture_on_commit_callbacks(execute=True):
        added = DataAssetFactory(open=True)
    assert api.get(LIST).json()["results"][0]["id"] == added.pk


def test_public_pages_are_kept_per_language_and_page(varied, api, public_cache):
    english = api.get(LIST, HTTP_ACCEPT_LANGUAGE="en").json()
    chinese = api.get(LIST, HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert english["results"][0]["grade_label"] != chinese["results"][0]["grade_label"]
    small = api.get(LIST, {"page_size": 1}).json()
    assert len(small["results"]) == 1
    following = api.get(small["next"]).json()
    assert following["results"][0]["id"] != small["results"][0]["id"]


def test_signed_in_users_are_never_served_the_public_page(varied, api, public_cache):
    closed = DataAssetFactory()  # not in the open catalog
    public = api.get(LIST).json()
    assert closed.pk not in {row["id"] for row in public["results"]}
    as_user(api, UserFactory(is_superuser=True))
    mine = api.get(LIST).json()
    assert closed.pk in {row["id"] for row in mine["results"]}
    assert "responsible_phone" in mine["results"][0]


def test_a_catalog_class_change_reaches_the_public_page(varied, api, public_cache,
                                                        django_capture_on_commit_callbacks):
    klass = varied[0].catalog_class
    api.get(LIST)
    with django_capture_on_commit_callbacks(execute=True):
        klass.code = klass.code + "X"
        klass.save()
    rows = {row["id"]: row for row in api.get(LIST).json()["results"]}
    assert rows[varied[0].pk]["catalog_class"] == klass.code
