"""The catalog pages: list (search, filters, errors), steward edit (validation, stale edits)."""

from __future__ import annotations

import base64
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.changes import asset_changes
from catalog.choices import SharingType
from catalog.forms import DataAssetForm
from catalog.models import DataAsset

from ..factories import DataAssetFactory, InstitutionFactory, region
from ..helpers import form_data

pytestmark = pytest.mark.django_db

LIST = reverse("catalog:asset_list")


def edit_url(asset):
    return reverse("catalog:asset_edit", args=[asset.pk])


def state(asset) -> tuple[dict, int]:
    """The stored row and its history length: what a refused write must leave alone."""
    return DataAsset.objects.filter(pk=asset.pk).values().get(), asset.history.count()


def shown_pks(response) -> set[int]:
    page = response.context["page"]
    return {a.pk for a in page.items} if page else set()


def error_box(response) -> str:
    html = response.content.decode()
    assert 'role="alert"' in html, "no visible error"
    return html[html.index('role="alert"'):]


def cursor_of(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


# --- List page ------------------------------------------------------------------------------


@pytest.fixture
def catalog(db):
    hospital = InstitutionFactory(name="肿瘤医院", region=region("330106"))
    return {
        "tumour": DataAssetFactory(open=True, name="肿瘤登记", holder=hospital),
        "hospital": DataAssetFactory(open=True, name="医院床位", holder=hospital),
        "vaccine": DataAssetFactory(open=True, name="疫苗接种", name_en="Vaccination"),
        "hidden_tumour": DataAssetFactory(name="肿瘤随访"),  # not in the open catalog
    }


def test_list_page_renders(client, catalog):
    response = client.get(LIST)
    assert response.status_code == 200
    assert shown_pks(response) == {catalog[k].pk for k in ("tumour", "hospital", "vaccine")}
    assert 'role="alert"' not in response.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [("肿瘤", {"tumour"}), ("医院", {"hospital"}), ("vaccination", {"vaccine"}),
     ("疫苗 接种", {"vaccine"}), ("肿瘤 医院", set())],
)
def test_search_on_the_list_page(client, catalog, query, expected):
    response = client.get(LIST, {"q": query})
    assert response.status_code == 200
    assert shown_pks(response) == {catalog[k].pk for k in expected}
    assert response.context["facets"].total == len(expected)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": "肿瘤\x00"}, None),
        ({"q": "医" * 101}, "100"),
        ({"q": "！？。，…"}, "Enter at least one letter, digit or Chinese character"),
        ({"q": "!!!"}, "Enter at least one letter, digit or Chinese character"),
        ({"sort": "-bogus"}, "Unknown sort order"),
        ({"grade": "9"}, None),
        ({"category": "foo"}, None),
        ({"sharing_type": "bogus"}, None),
        ({"region": "999999"}, "999999"),
        ({"holder": "abc"}, None),
        ({"catalog_class": "nope"}, None),
    ],
    ids=["nul", "too-long", "cjk-punctuation", "punctuation", "sort", "grade", "category",
         "sharing-type", "region", "holder", "class"],
)
def test_bad_list_parameters_give_a_visible_error_and_no_results(client, catalog, params, message):
    response = client.get(LIST, params)
    assert response.status_code == 200
    box = error_box(response)
    if message:
        assert message in box
    assert response.context["page"] is None
    assert not any(asset.code in response.content.decode() for asset in catalog.values())


BAD_CURSORS = {
    "not-base64": "!!!",
    "not-json": base64.urlsafe_b64encode(b"hello").decode(),
    "not-a-list": cursor_of({"a": 1}),
    "wrong-length": cursor_of(["a", 1]),
    "bad-direction": cursor_of(["x", "2024-01-01T00:00:00+00:00", 1]),
    "pk-not-int": cursor_of(["a", "2024-01-01T00:00:00+00:00", "1"]),
    "value-not-a-date": cursor_of(["a", "yesterday", 1]),
    "impossible-date": cursor_of(["a", "2024-13-45T25:61:00", 1]),
    "value-not-a-string": cursor_of(["a", 5, 1]),
    "non-ascii": "游标",
}


@pytest.mark.parametrize("cursor", list(BAD_CURSORS.values()), ids=list(BAD_CURSORS))
def test_malformed_cursor_gives_a_visible_error(client, catalog, cursor):
    response = client.get(LIST, {"cursor": cursor})
    assert response.status_code == 200
    assert "no longer valid" in error_box(response)
    assert response.context["page"] is None


@pytest.mark.parametrize(
    ("sort", "value"),
    [("name", "a\x00b"), ("code", "\x00"), ("-grade", "3"), ("-grade", 2.5), ("name", 7)],
)
def test_cursor_values_of_the_wrong_kind_give_a_visible_error(client, catalog, sort, value):
    response = client.get(LIST, {"sort": sort, "cursor": cursor_of(["a", value, 1])})
    assert response.status_code == 200
    assert "no longer valid" in error_box(response)


def test_filters_narrow_the_list(client, catalog):
    response = client.get(LIST, {"q": "肿瘤", "region": "330106"})
    assert shown_pks(response) == {catalog["tumour"].pk}
    response = client.get(LIST, {"region": "44"})
    assert shown_pks(response) == set()


@pytest.mark.parametrize(("who", "sizes"), [("steward", (5, 50)), ("anonymous", (5, 30))])
def test_list_page_queries_do_not_grow_with_page_size(client, settings, steward, who, sizes):
    near = InstitutionFactory(region=region("330106"))
    far = InstitutionFactory(region=region("440106"))
    for i in range(100):
        DataAssetFactory(open=(i % 3 == 0), name=f"资产{i:03d}", holder=near if i % 2 else far)
    if who == "steward":
        client.force_login(steward)
    counts = {}
    for size in sizes:
        settings.CATALOG_PAGE_SIZE = size
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST, {"sort": "name"})
        assert response.status_code == 200
        assert len(response.context["page"].items) == size
        counts[size] = len(queries)
    assert counts[sizes[0]] == counts[sizes[1]]


# --- Edit page ------------------------------------------------------------------------------


@pytest.fixture
def asset(steward, hospital):
    return DataAssetFactory(holder=hospital, name="住院病案首页", grade=3)


def loaded_form_data(client, asset, **overrides) -> dict:
    """What the editor's browser posts back: the form as the edit page rendered it."""
    response = client.get(edit_url(asset))
    assert response.status_code == 200
    return form_data(response.context["form"], **overrides)


def test_edit_page_shows_the_version(client, steward, asset):
    client.force_login(steward)
    response = client.get(edit_url(asset))
    assert isinstance(response.context["form"], DataAssetForm)
    assert response.context["form"]["version"].value() == asset.version


def test_save_records_actor_reason_and_version(client, steward, asset):
    client.force_login(steward)
    data = loaded_form_data(client, asset, name="住院病案首页（2024版）", change_reason="年度更新")
    before_history = asset.history.count()
    response = client.post(edit_url(asset), data)
    assert response.status_code == 302
    assert response["Location"] == asset.get_absolute_url()
    stored = DataAsset.objects.get(pk=asset.pk)
    assert (stored.name, stored.version, stored.updated_by_id) == (
        "住院病案首页（2024版）", asset.version + 1, steward.pk,
    )
    assert asset.history.count() == before_history + 1
    record = asset.history.order_by("-history_date", "-history_id").first()
    assert (record.history_user_id, record.history_change_reason, record.name) == (
        steward.pk, "年度更新", "住院病案首页（2024版）",
    )


def test_posting_the_form_unchanged_writes_nothing(client, steward, asset):
    client.force_login(steward)
    before = state(asset)
    response = client.post(edit_url(asset), loaded_form_data(client, asset, change_reason="复核"))
    assert response.status_code == 302
    assert state(asset) == before


def test_editing_one_field_leaves_the_others_exactly_as_they_were(client, steward, asset):
    client.force_login(steward)
    before, _count = state(asset)
    data = loaded_form_data(client, asset, grade="4", change_reason="复核分级")
    assert client.post(edit_url(asset), data).status_code == 302
    after, _count = state(asset)
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {"grade", "version", "updated_at", "updated_by_id"}
    entry_fields = [c.label for c in asset_changes(DataAsset.objects.get(pk=asset.pk))[0].changes]
    assert entry_fields == [str(DataAsset._meta.get_field("grade").verbose_name)]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"categories": ["foo"]}, "categories"),
        ({"categories": []}, "categories"),
        ({"sharing_type": "bogus"}, "sharing_type"),
        ({"name": "名" * 201}, "name"),
        ({"record_count": "-1"}, "record_count"),
        ({"grade": "6"}, "grade"),
        ({"spatial_coverage": "999999"}, "spatial_coverage"),
        ({"sharing_type": SharingType.CONDITIONAL, "sharing_condition": ""}, "sharing_condition"),
        ({"change_reason": ""}, "change_reason"),
    ],
    ids=["unknown-category", "no-category", "unknown-sharing-type", "name-201", "negative-volume",
         "grade-6", "unknown-region", "condition-missing", "no-reason"],
)
def test_bad_edit_is_refused_with_a_message_and_changes_nothing(
    client, steward, asset, overrides, field
):
    client.force_login(steward)
    data = loaded_form_data(client, asset, change_reason="试图修改")
    data.update(overrides)
    before = state(asset)
    response = client.post(edit_url(asset), data)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors.get(field), form.errors
    html = response.content.decode()
    assert "Nothing was saved" in error_box(response)
    assert "field-error" in html
    assert state(asset) == before


def test_stale_edit_is_refused_and_the_first_edit_stands(client, steward, asset):
    other = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(steward)
    other.force_login(steward)
    version = asset.version
    history_before = asset.history.count()
    first = loaded_form_data(client, asset, name="第一位的修改", change_reason="一")
    second = loaded_form_data(other, asset, name="第二位的修改", change_reason="二")
    assert first["version"] == second["version"] == str(version)

    assert client.post(edit_url(asset), first).status_code == 302
    response = other.post(edit_url(asset), second)

    assert response.status_code == 200
    box = error_box(response)
    assert "Someone else saved this asset" in box
    assert f"version {version + 1}" in box
    stored = DataAsset.objects.get(pk=asset.pk)
    assert (stored.name, stored.version) == ("第一位的修改", version + 1)
    assert asset.history.count() == history_before + 1
    assert asset.history.filter(name="第二位的修改").count() == 0


def test_forged_version_is_refused(client, steward, asset):
    client.force_login(steward)
    before = state(asset)
    data = loaded_form_data(client, asset, name="伪造", change_reason="x", version="0")
    response = client.post(edit_url(asset), data)
    assert response.status_code == 200
    assert state(asset) == before
