"""/api/allocations/: rights allocations through the permission matrix.

Reading follows the assets' scope (an allocation is visible with its asset, to signed-in
users, as on the rights pages); allocating, changing and ending need the right to allocate
over the asset (stewards in jurisdiction): a visible asset without it answers 403, a hidden
one 404 exactly like a missing one, anonymous 401. Writes go through the page's form and the
rights services: the same messages, history with actor and reason, and whenever the answer
is not a success, nothing in the database has changed.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.choices import InstitutionType
from accounts.scoping import Action
from catalog.models import DataAsset
from rights.choices import Right
from rights.forms import AllocationForm
from rights.history import allocation_histories
from rights.models import RightsAllocation

from ..catalog.test_scoping import ALL, IN_33, IN_44, IN_3301
from ..factories import (
    AllocationFactory,
    DataAssetFactory,
    InstitutionFactory,
    UserFactory,
    region,
)
from .conftest import as_user, keys, walk
from .test_assets import API_MATRIX

pytestmark = pytest.mark.django_db

LIST = reverse("api:allocation-list")
LEGAL_BASIS = "《数据二十条》第三条；《医疗机构管理条例》"
# Who may allocate over which assets of the scoping world: stewards in their jurisdiction
# (and superusers); nobody else, not even through the officer's grant.
ALLOCATABLE = {
    "superuser": ALL, "national_steward": ALL, "steward33": IN_33, "steward3301": IN_3301,
    "steward44": IN_44,
}
# Anonymous, and a deactivated account (whose token no longer works).
SIGNED_OUT = {"anonymous", "inactive_steward"}


def detail(pk) -> str:
    return reverse("api:allocation-detail", args=[pk])


def history_url(pk) -> str:
    return reverse("api:allocation-history", args=[pk])


def end_url(pk) -> str:
    return reverse("api:allocation-end", args=[pk])


@pytest.fixture
def allocated(granted_world):
    """The API tests' world (see conftest), with the holding right of each asset's holder."""
    assets, users = granted_world
    allocations = {key: AllocationFactory(asset=asset) for key, asset in assets.items()}
    return assets, users, allocations


@pytest.fixture
def scene(steward, hospital):
    """A grade-4 hospital asset in province 33, its steward, the provincial CDC and another
    hospital, for the allocation rules."""
    return {
        "steward": steward,
        "asset": DataAssetFactory(holder=hospital, grade=4, name="住院病案首页"),
        "cdc": InstitutionFactory(name="浙江省疾病预防控制中心", type=InstitutionType.CDC,
                                  region=region("33")),
        "other": InstitutionFactory(name="杭州市第一人民医院", region=region("330102")),
        "inactive": InstitutionFactory(name="已撤销医院", region=region("330102"),
                                       is_active=False),
    }


def sign_in(api: APIClient, user) -> APIClient:
    if user.is_authenticated and not user.is_active:
        api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
        return api
    return as_user(api, user)


def snapshot():
    """Every allocation and every history record."""
    return (
        list(RightsAllocation.objects.order_by("pk").values()),
        list(RightsAllocation.history.order_by("history_id").values()),
    )


def hold_body(asset, **overrides) -> dict:
    """A sound holding right of the asset's holder, as the API takes it."""
    return {
        "asset": asset.pk, "party_kind": "institution", "party_institution": asset.holder_id,
        "right": "hold", "legal_basis": LEGAL_BASIS, "valid_from": "2025-01-01",
        **overrides,
    }




def expected_status(who: str, key: str, success: int) -> int:
    if who in SIGNED_OUT:
        return 401
    if key in ALLOCATABLE.get(who, set()):
        return success
    return 403 if key in API_MATRIX[who][0] else 404


# --- The permission matrix -----------------------------------------------------------------

@pytest.mark.parametrize("who", [w for w in API_MATRIX if w not in SIGNED_OUT])
def test_the_matrix_is_the_scoping_rule(world, who):
    """The expectations below are the one scoping rule's answers (tests of the tests)."""
    assets, users = world
    by_pk = {asset.pk: key for key, asset in assets.items()}
    allocatable = DataAsset.objects.restrict(users[who], Action.ALLOCATE)
    assert {by_pk[pk] for pk in allocatable.values_list("pk", flat=True)} == (
        ALLOCATABLE.get(who, set()))


@pytest.mark.parametrize("who", list(API_MATRIX))
def test_list_detail_and_history_follow_the_assets_scope(allocated, api, who):
    _assets, users, allocations = allocated
    user = users[who]
    sign_in(api, user)
    if who in SIGNED_OUT:
        pk = allocations["open33"].pk
        for url in (LIST, detail(pk), history_url(pk)):
            response = api.get(url)
            assert response.status_code == 401, (url, response.content)
            assert response.json()["code"] in ("not_authenticated", "authentication_failed")
        return
    visible = API_MATRIX[who][0]
    listed = [row["id"] for row in walk(api, LIST)]
    assert len(listed) == len(set(listed))
    assert keys(allocations, listed) == visible
    assert set(listed) == set(
        RightsAllocation.objects.visible_to(user).values_list("pk", flat=True))
    missing = api.get(detail(10**9)).json()
    for key, allocation in allocations.items():
        expected = 200 if key in visible else 404
        response = api.get(detail(allocation.pk))
        assert response.status_code == expected, (who, key)
        assert api.get(history_url(allocation.pk)).status_code == expected, (who, key)
        if expected == 404:
            # A hidden allocation is indistinguishable from a missing one.
            assert response.json() == missing == {"detail": "Not found.", "code": "not_found"}
        else:
            assert response.json()["id"] == allocation.pk


@pytest.mark.parametrize("who", list(API_MATRIX))
def test_allocate_through_the_matrix(allocated, api, who):
    assets, users, _allocations = allocated
    user = users[who]
    sign_in(api, user)
    for key in sorted(ALL):
        asset = assets[key]
        before = snapshot()
        response = api.post(LIST, hold_body(asset, reason=f"确权 {who}"), format="json")
        expected = expected_status(who, key, 201)
        assert response.status_code == expected, (who, key, response.content)
        if expected != 201:
            assert snapshot() == before, (who, key)
            assert set(response.json()) == {"detail", "code"}
            continue
        data = response.json()
        allocation = RightsAllocation.objects.get(pk=data["id"])
        assert response["Location"] == detail(allocation.pk)
        assert (allocation.asset_id, allocation.party_institution_id, allocation.right,
                allocation.status, allocation.created_by_id) == (
            asset.pk, asset.holder_id, "hold", "active", user.pk)
        record = allocation.history.get()
        assert (record.history_type, record.history_user_id, record.history_change_reason) == (
            "+", user.pk, f"确权 {who}")
        assert data["asset"] == {"id": asset.pk, "code": asset.code, "name": asset.name}


@pytest.mark.parametrize("who", list(API_MATRIX))
def test_change_through_the_matrix(allocated, api, who):
    _assets, users, allocations = allocated
    user = users[who]
    sign_in(api, user)
    for key in sorted(ALL):
        allocation = allocations[key]
        before = snapshot()
        response = api.patch(detail(allocation.pk), {"scope": f"范围 {who}", "reason": "补充范围"},
                             format="json")
        expected = expected_status(who, key, 200)
        assert response.status_code == expected, (who, key, response.content)
        if expected != 200:
            assert snapshot() == before, (who, key)
            assert set(response.json()) == {"detail", "code"}
            continue
        allocation.refresh_from_db()
        assert allocation.scope == response.json()["scope"] == f"范围 {who}"
        record = allocation.history.order_by("-history_id").first()
        assert (record.history_type, record.history_user_id, record.history_change_reason) == (
            "~", user.pk, "补充范围")


@pytest.mark.parametrize("who", list(API_MATRIX))
def test_end_through_the_matrix(allocated, api, who):
    _assets, users, allocations = allocated
    user = users[who]
    sign_in(api, user)
    for key in sorted(ALL):
        allocation = allocations[key]
        before = snapshot()
        response = api.post(end_url(allocation.pk), {"reason": "持有机构变更"}, format="json")
        expected = expected_status(who, key, 200)
        assert response.status_code == expected, (who, key, response.content)
        if expected != 200:
            assert snapshot() == before, (who, key)
            assert set(response.json()) == {"detail", "code"}
            continue
        allocation.refresh_from_db()
        assert (allocation.status, allocation.valid_until) == ("ended", timezone.localdate())
        data = response.json()
        assert (data["status"], data["is_ended"], data["valid_until"]) == (
            "ended", True, timezone.localdate().isoformat())
        record = allocation.history.order_by("-history_id").first()
        assert (record.history_user_id, record.history_change_reason) == (user.pk, "持有机构变更")


def test_refusals_come_before_the_body_is_read(allocated, api):
    """A hidden allocation is 404 and a visible one the user may not allocate over is 403,
    whatever the body: bad input reveals nothing about them."""
    _assets, users, allocations = allocated
    before = snapshot()
    as_user(api, users["steward44"])
    hidden = allocations["h_cond"].pk
    for body in ([1, 2], {"right": "nonsense"}, {}):
        assert api.patch(detail(hidden), body, format="json").status_code == 404
        assert api.post(end_url(hidden), body, format="json").status_code == 404
    as_user(api, users["registrar_h"])
    own = allocations["h_cond"].pk
    for body in ([1, 2], {"right": "nonsense"}, {}):
        assert api.patch(detail(own), body, format="json").status_code == 403
        assert api.post(end_url(own), body, format="json").status_code == 403
        response = api.post(LIST, {"asset": allocations["h_cond"].asset_id, **(
            body if isinstance(body, dict) else {})}, format="json")
        assert response.status_code == 403
    assert snapshot() == before


# --- The allocation rules and bad input: 400, field messages, nothing saved ----------------

def resolve(scene, value):
    """Test parameters name the scene's institutions by ``@name``."""
    if isinstance(value, str) and value.startswith("@"):
        return scene[value[1:]].pk
    if isinstance(value, str) and value.startswith("#"):
        return scene[value[1:]].credit_code
    return value


@pytest.mark.parametrize(("overrides", "fields"), [
    # Data subjects hold personal rights, not resource rights.
    ({"party_kind": "data_subjects", "party_institution": None,
      "party_description": "本院就诊患者"}, {"right"}),
    # Personal rights are the data subjects', not an institution's.
    ({"right": "access"}, {"right"}),
    # Holding belongs to the holder named in the ledger (by id, or by credit code).
    ({"party_institution": "@other"}, {"party_institution"}),
    ({"party_institution": "#other"}, {"party_institution"}),
    # A public-health agency: a stated purpose and an end date; never product operation.
    ({"party_institution": "@cdc", "right": "process_use"}, {"purpose", "valid_until"}),
    ({"party_institution": "@cdc", "right": "product_operate", "purpose": "监测",
      "valid_until": "2026-12-31"}, {"right"}),
    ({"valid_until": "2024-12-31"}, {"valid_until"}),
    ({"party_kind": "data_subjects", "right": "access", "party_description": "患者"},
     {"party_institution"}),
    ({"party_kind": "data_subjects", "right": "access", "party_institution": None},
     {"party_description"}),
    ({"party_institution": None}, {"party_institution"}),
])
def test_rule_violations_are_the_pages_field_messages(scene, api, overrides, fields):
    asset = scene["asset"]
    body = hold_body(asset, **{k: resolve(scene, v) for k, v in overrides.items()})
    as_user(api, scene["steward"])
    before = snapshot()
    response = api.post(LIST, body, format="json")
    assert response.status_code == 400, response.content
    errors = response.json()
    assert set(errors) == fields, errors
    assert snapshot() == before
    # The page's form says the same, word for word.
    page = {k: ("" if v is None else v) for k, v in body.items() if k != "asset"}
    form = AllocationForm({"status": "active", **page}, asset=asset)
    assert not form.is_valid()
    assert {f: [str(m) for m in form.errors[f]] for f in fields} == errors


def test_grade_five_data_is_not_operated_as_a_product(scene, api):
    asset = DataAssetFactory(holder=scene["asset"].holder, grade=5)
    as_user(api, scene["steward"])
    before = snapshot()
    response = api.post(LIST, hold_body(asset, right="product_operate"), format="json")
    assert response.status_code == 400
    assert response.json() == {"right": ["Data of grade 5 cannot be operated as a product."]}
    assert snapshot() == before


@pytest.mark.parametrize(("overrides", "field"), [
    ({"valid_from": "2025/01/01"}, "valid_from"),
    ({"valid_from": "not a date"}, "valid_from"),
    ({"valid_from": "2025-02-30"}, "valid_from"),
    ({"valid_from": None}, "valid_from"),
    ({"valid_until": 20251231}, "valid_until"),
    ({"party_kind": "person"}, "party_kind"),
    ({"party_kind": None}, "party_kind"),
    ({"right": "own"}, "right"),
    ({"right": ["hold"]}, "right"),
    ({"status": "ended"}, "status"),
    ({"status": "ACTIVE"}, "status"),
    ({"legal_basis": ""}, "legal_basis"),
    ({"legal_basis": "   "}, "legal_basis"),
    ({"legal_basis": 5}, "legal_basis"),
    ({"legal_basis": {"a": 1}}, "legal_basis"),
    ({"legal_basis": "a\x00b"}, "legal_basis"),
    ({"legal_basis": "x" * 501}, "legal_basis"),
    ({"party_description": "x" * 201}, "party_description"),
    ({"party_institution": 10**9}, "party_institution"),
    ({"party_institution": 10**30}, "party_institution"),
    ({"party_institution": 0}, "party_institution"),
    ({"party_institution": -1}, "party_institution"),
    ({"party_institution": "91330000MA27XL0E2Y"}, "party_institution"),
    ({"party_institution": "@inactive"}, "party_institution"),
    ({"party_institution": "²"}, "party_institution"),
    ({"party_institution": "1\x00"}, "party_institution"),
    ({"party_institution": True}, "party_institution"),
    ({"party_institution": 1.5}, "party_institution"),
    ({"party_institution": {"id": 1}}, "party_institution"),
    ({"reason": 5}, "reason"),
    ({"reason": "x" * 501}, "reason"),
    ({"created_by": 1}, "created_by"),
    ({"id": 5}, "id"),
])
def test_bad_input_is_400_field_messages_and_saves_nothing(scene, api, overrides, field):
    body = hold_body(scene["asset"], **{k: resolve(scene, v) for k, v in overrides.items()})
    as_user(api, scene["steward"])
    before = snapshot()
    response = api.post(LIST, body, format="json")
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors, errors
    assert all(isinstance(message, str) and message for message in errors[field])
    assert snapshot() == before


@pytest.mark.parametrize(("value", "status"), [
    ("missing", 400), (None, 400), ("12", 400), ("abc", 400), (True, 400), (1.5, 400),
    ([1], 400), ({"id": 1}, 400),
    (10**9, 404), (10**30, 404), (0, 404), (-3, 404),
])
def test_the_asset_of_a_new_allocation(scene, api, value, status):
    body = hold_body(scene["asset"])
    if value == "missing":
        del body["asset"]
    else:
        body["asset"] = value
    as_user(api, scene["steward"])
    before = snapshot()
    response = api.post(LIST, body, format="json")
    assert response.status_code == status, response.content
    if status == 400:
        assert set(response.json()) == {"asset"}
    else:
        assert response.json() == {"detail": "Not found.", "code": "not_found"}
    assert snapshot() == before


def test_a_hidden_asset_is_answered_like_a_missing_one(scene, api, far_hospital):
    hidden = DataAssetFactory(holder=far_hospital)
    as_user(api, scene["steward"])
    before = snapshot()
    answers = [api.post(LIST, hold_body(hidden), format="json"),
               api.post(LIST, {**hold_body(hidden), "asset": 10**9}, format="json")]
    assert [a.status_code for a in answers] == [404, 404]
    assert answers[0].json() == answers[1].json()
    assert snapshot() == before


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "5", "null", "[]", "true"])
def test_a_body_that_is_no_json_object_is_400(scene, api, body):
    allocation = AllocationFactory(asset=scene["asset"])
    as_user(api, scene["steward"])
    before = snapshot()
    json = "application/json"
    for response in (
        api.post(LIST, body, content_type=json),
        api.patch(detail(allocation.pk), body, content_type=json),
        api.post(end_url(allocation.pk), body, content_type=json),
    ):
        assert response.status_code == 400, (body, response.content)
        assert "non_field_errors" in response.json()
    assert snapshot() == before


def test_malformed_json_and_wrong_media_type(scene, api):
    allocation = AllocationFactory(asset=scene["asset"])
    as_user(api, scene["steward"])
    before = snapshot()
    response = api.patch(detail(allocation.pk), "{not json", content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (400, "parse_error")
    response = api.post(LIST, "asset=1", content_type="application/x-www-form-urlencoded")
    assert (response.status_code, response.json()["code"]) == (415, "unsupported_media_type")
    assert api.delete(detail(allocation.pk)).status_code == 405
    assert api.put(detail(allocation.pk), {}, format="json").status_code == 405
    assert snapshot() == before


def test_field_errors_in_chinese(scene):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_authenticate(scene["steward"])
    response = client.post(LIST, hold_body(scene["asset"], right="access"), format="json")
    assert response.status_code == 400
    message = response.json()["right"][0]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message


# --- Changing and ending -------------------------------------------------------------------

@pytest.fixture
def held(scene):
    """The asset's holding right, allocated by its steward."""
    from rights import services

    asset = scene["asset"]
    allocation = services.allocate(asset, {
        "party_kind": "institution", "party_institution": asset.holder, "right": "hold",
        "legal_basis": LEGAL_BASIS, "valid_from": date(2025, 1, 1),
    }, scene["steward"], reason="登记持有权")
    return allocation


@pytest.mark.parametrize(("body", "fields"), [
    ({"scope": "全部"}, {"reason"}),
    ({"scope": "全部", "reason": ""}, {"reason"}),
    ({"scope": "全部", "reason": "   "}, {"reason"}),
    ({"scope": "全部", "reason": None}, {"reason"}),
    ({"right": "access", "reason": "x"}, {"right"}),
    ({"party_institution": "@other", "reason": "x"}, {"party_institution"}),
    ({"party_institution": "@cdc", "reason": "x"},
     {"party_institution", "purpose", "valid_until"}),
    ({"valid_until": "2024-01-01", "reason": "x"}, {"valid_until"}),
    ({"status": "ended", "reason": "x"}, {"status"}),
    ({"asset": 1, "reason": "x"}, {"asset"}),
    ({"created_at": "2020-01-01", "reason": "x"}, {"created_at"}),
    ({"legal_basis": None, "reason": "x"}, {"legal_basis"}),
])
def test_a_refused_change_is_400_and_changes_nothing(scene, held, api, body, fields):
    as_user(api, scene["steward"])
    before = snapshot()
    response = api.patch(detail(held.pk), {k: resolve(scene, v) for k, v in body.items()},
                         format="json")
    assert response.status_code == 400, response.content
    assert set(response.json()) == fields, response.json()
    assert snapshot() == before


def test_a_change_keeps_the_fields_left_out_and_an_unchanged_one_writes_nothing(
    scene, held, api
):
    as_user(api, scene["steward"])
    response = api.patch(detail(held.pk), {"status": "suspended", "valid_until": "2027-06-30",
                                           "reason": "合作项目暂停"}, format="json")
    assert response.status_code == 200, response.content
    held.refresh_from_db()
    assert (held.status, held.valid_until, held.right, held.party_institution_id,
            held.legal_basis) == ("suspended", date(2027, 6, 30), "hold",
                                  scene["asset"].holder_id, LEGAL_BASIS)
    before = snapshot()
    response = api.patch(detail(held.pk), {"status": "suspended", "reason": "再次确认"},
                         format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "suspended"
    assert snapshot() == before


def test_an_ended_allocation_refuses_change_and_a_second_end(scene, held, api):
    as_user(api, scene["steward"])
    assert api.post(end_url(held.pk), {"reason": "持有机构变更"}, format="json").status_code == 200
    before = snapshot()
    response = api.patch(detail(held.pk), {"scope": "全部", "reason": "补充"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [
        "This allocation has ended and can no longer be changed: allocate the right anew."]}
    response = api.post(end_url(held.pk), {"reason": "再次终止"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["This allocation has already ended."]}
    assert snapshot() == before


@pytest.mark.parametrize(("body", "fields"), [
    ({}, {"reason"}),
    ({"reason": ""}, {"reason"}),
    ({"reason": "  "}, {"reason"}),
    ({"reason": None}, {"reason"}),
    ({"reason": 5}, {"reason"}),
    ({"reason": "x" * 501}, {"reason"}),
    ({"reason": "a\x00"}, {"reason"}),
    ({"reason": "到期", "valid_until": "2025-01-01"}, {"valid_until"}),
])
def test_ending_needs_a_reason_and_nothing_else(scene, held, api, body, fields):
    as_user(api, scene["steward"])
    before = snapshot()
    response = api.post(end_url(held.pk), body, format="json")
    assert response.status_code == 400, response.content
    assert set(response.json()) == fields
    assert snapshot() == before


def test_ending_keeps_an_earlier_end_date(scene, api):
    past = date(2025, 3, 31)
    allocation = AllocationFactory(asset=scene["asset"], valid_until=past)
    as_user(api, scene["steward"])
    response = api.post(end_url(allocation.pk), {"reason": "到期"}, format="json")
    assert response.status_code == 200
    allocation.refresh_from_db()
    assert (allocation.status, allocation.valid_until) == ("ended", past)


# --- History ------------------------------------------------------------------------------

def test_history_has_actor_reason_and_changes_as_the_page_does(scene, api):
    steward, asset = scene["steward"], scene["asset"]
    as_user(api, steward)
    created = api.post(LIST, hold_body(asset, reason="登记持有权"), format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert api.patch(detail(pk), {"scope": "病案首页全部字段", "reason": "补充范围"},
                     format="json").status_code == 200
    assert api.patch(detail(pk), {"status": "suspended", "reason": "暂停"},
                     format="json").status_code == 200
    assert api.post(end_url(pk), {"reason": "持有机构变更"}, format="json").status_code == 200

    entries = walk(api, history_url(pk))
    assert [e["type"] for e in entries] == ["~", "~", "~", "+"]
    assert [e["reason"] for e in entries] == ["持有机构变更", "暂停", "补充范围", "登记持有权"]
    assert {e["actor"]["id"] for e in entries} == {steward.pk}
    assert entries[0]["actor"]["name"] == str(steward)
    assert entries[2]["changes"] == [
        {"field": "scope", "label": "scope", "old": "", "new": "病案首页全部字段"}]
    assert entries[1]["changes"] == [
        {"field": "status", "label": "status", "old": "active", "new": "suspended"}]
    assert {(c["field"], c["old"], c["new"]) for c in entries[0]["changes"]} == {
        ("status", "suspended", "ended"),
        ("valid_until", None, timezone.localdate().isoformat()),
    }
    assert entries[3]["changes"] == []
    # The rights page shows the same versions.
    page = allocation_histories(asset)[pk]
    assert [(e.reason, e.actor.pk) for e in page] == [
        (e["reason"], e["actor"]["id"]) for e in entries]
    # A page at a time, each diffed against the version before it, across page boundaries.
    assert walk(api, history_url(pk), {"page_size": 1}) == entries


def test_history_shows_the_institution_by_id(scene, held, api):
    as_user(api, scene["steward"])
    other = InstitutionFactory(name="合作研究所", region=region("330106"))
    allocation = AllocationFactory(asset=scene["asset"], right="process_use",
                                   party_institution=scene["other"])
    response = api.patch(detail(allocation.pk), {"party_institution": other.credit_code,
                                                 "reason": "受让方变更"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["party_institution"]["id"] == other.pk
    newest = api.get(history_url(allocation.pk)).json()["results"][0]
    assert newest["changes"] == [{"field": "party_institution", "label": "institution",
                                  "old": scene["other"].pk, "new": other.pk}]


# --- Representation, filters, pages, query counts ------------------------------------------

def test_representation(scene, api):
    steward, asset, cdc = scene["steward"], scene["asset"], scene["cdc"]
    soon = timezone.localdate() + timedelta(days=10)
    allocation = AllocationFactory(
        asset=asset, party_institution=cdc, right="process_use", purpose="传染病监测",
        scope="诊断与就诊日期", valid_until=soon, created_by=steward,
    )
    subjects = AllocationFactory(asset=asset, subjects=True)
    as_user(api, steward)
    data = api.get(detail(allocation.pk)).json()
    assert data["asset"] == {"id": asset.pk, "code": asset.code, "name": asset.name}
    assert data["party_institution"] == {"id": cdc.pk, "name": cdc.name,
                                         "credit_code": cdc.credit_code}
    assert (data["party_kind"], data["party_kind_label"], data["party_name"]) == (
        "institution", "Institution", cdc.name)
    assert (data["right"], data["right_label"]) == (
        "process_use", "Processing and use (加工使用权)")
    assert (data["status"], data["status_label"]) == ("active", "In force")
    assert (data["valid_from"], data["valid_until"]) == ("2025-01-01", soon.isoformat())
    assert (data["is_ended"], data["past_end"], data["ending_soon"]) == (False, False, True)
    assert data["created_by"] == {"id": steward.pk, "name": str(steward)}
    assert data["purpose"] == "传染病监测" and data["scope"] == "诊断与就诊日期"
    assert data["legal_basis"] == LEGAL_BASIS and data["created_at"] and data["updated_at"]
    other = api.get(detail(subjects.pk)).json()
    assert (other["party_institution"], other["party_name"], other["created_by"]) == (
        None, "本院就诊患者", None)


def test_labels_follow_the_request_language(scene):
    allocation = AllocationFactory(asset=scene["asset"])
    client = APIClient(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_authenticate(scene["steward"])
    data = client.get(detail(allocation.pk)).json()
    with translation.override("zh-hans"):
        expected = str(Right.HOLD.label)
    assert data["right_label"] == expected != "Holding (持有权)"


@pytest.fixture
def varied(allocated):
    """Besides each asset's holding right: ended, suspended, past its end, ending soon and
    later, and a personal right of the data subjects."""
    assets, users, allocations = allocated
    today = timezone.localdate()
    cdc = InstitutionFactory(name="省疾控", type=InstitutionType.CDC, region=region("33"))
    extra = {
        "ended": AllocationFactory(asset=assets["h_cond"], status="ended",
                                   valid_until=today - timedelta(days=3)),
        "suspended_soon": AllocationFactory(
            asset=assets["o_cond"], party_institution=cdc, right="process_use",
            purpose="监测", status="suspended", valid_until=today + timedelta(days=10)),
        "past": AllocationFactory(asset=assets["h_cond"], party_institution=cdc,
                                  right="process_use", purpose="监测",
                                  valid_until=today - timedelta(days=1)),
        "today": AllocationFactory(asset=assets["far_cond"], party_institution=cdc,
                                   right="process_use", purpose="监测", valid_until=today),
        "later": AllocationFactory(asset=assets["open33"], party_institution=cdc,
                                   right="process_use", purpose="监测",
                                   valid_until=today + timedelta(days=100)),
        "subjects": AllocationFactory(asset=assets["open33"], subjects=True),
    }
    return assets, users, {**allocations, **extra}, cdc


def _days_left(allocation) -> int | None:
    if allocation.is_ended or allocation.valid_until is None:
        return None
    return (allocation.valid_until - timezone.localdate()).days


# id → (parameter, value, which allocations it selects); "@…" names an object of the world.
FILTERS = {
    "right": ("right", "process_use", lambda a, ctx: a.right == "process_use"),
    "ended": ("status", "ended", lambda a, ctx: a.status == "ended"),
    "suspended": ("status", "suspended", lambda a, ctx: a.status == "suspended"),
    "subjects": ("party_kind", "data_subjects", lambda a, ctx: a.party_kind == "data_subjects"),
    "asset": ("asset", "@h_cond", lambda a, ctx: a.asset_id == ctx["h_cond"]),
    "institution": ("party_institution", "@cdc",
                    lambda a, ctx: a.party_institution_id == ctx["cdc"]),
    "ending_30": ("ending_within_days", "30", lambda a, ctx: a.ending_soon),
    "ending_0": ("ending_within_days", "0", lambda a, ctx: _days_left(a) == 0),
    "ending_365": ("ending_within_days", "365",
                   lambda a, ctx: _days_left(a) is not None and 0 <= _days_left(a) <= 365),
    "past_end": ("past_end", "true", lambda a, ctx: a.past_end),
    "not_past_end": ("past_end", "false", lambda a, ctx: not a.past_end),
}


@pytest.mark.parametrize("name", list(FILTERS))
@pytest.mark.parametrize("who", ["superuser", "steward33", "officer"])
def test_filters(varied, api, name, who):
    assets, users, _allocations, cdc = varied
    param, value, wanted = FILTERS[name]
    context = {"h_cond": assets["h_cond"].pk, "cdc": cdc.pk}
    if value.startswith("@"):
        value = str(context[value[1:]])
    user = users[who]
    as_user(api, user)
    listed = {row["id"] for row in walk(api, LIST, {param: value})}
    expected = {a.pk for a in RightsAllocation.objects.visible_to(user) if wanted(a, context)}
    assert listed == expected
    # Each filter selects something, and leaves something out: no comparison of trivial sets.
    if who == "superuser":
        assert listed and listed != set(RightsAllocation.objects.values_list("pk", flat=True))


@pytest.mark.parametrize("params", [
    {"right": "own"}, {"status": "x"}, {"party_kind": "x"}, {"asset": "abc"}, {"asset": "-1"},
    {"asset": "1e30"}, {"asset": "99999999999999999999999"}, {"asset": "1.5"},
    {"party_institution": "x"}, {"party_institution": "0"}, {"ending_within_days": "-1"},
    {"ending_within_days": "x"}, {"ending_within_days": "99999"},
    {"ending_within_days": "1.5"}, {"past_end": "yes"}, {"past_end": "1"},
    {"right": "a\x00"}, {"cursor": "garbage"},
])
def test_bad_filter_values_are_400_with_field_messages(scene, api, params):
    as_user(api, scene["steward"])
    response = api.get(LIST, params)
    assert response.status_code == 400, response.content
    assert set(response.json()) <= {*params, "non_field_errors"}


def test_filters_do_not_hide_the_object_a_detail_url_names(varied, api):
    _assets, users, allocations, _cdc = varied
    as_user(api, users["superuser"])
    pk = allocations["ended"].pk
    assert api.get(detail(pk), {"status": "active"}).status_code == 200


def test_cursor_walks_every_row_once(scene, api):
    asset = scene["asset"]
    for _ in range(23):
        AllocationFactory(asset=asset)
    as_user(api, scene["steward"])
    ids = [row["id"] for row in walk(api, LIST, {"page_size": 5})]
    assert ids == sorted(ids, reverse=True)
    assert set(ids) == set(RightsAllocation.objects.values_list("pk", flat=True))
    assert len(ids) == 23
    last = api.get(LIST, {"page_size": 5})
    while last.json()["next"]:
        last = api.get(last.json()["next"])
    back = api.get(last.json()["previous"])
    assert [r["id"] for r in back.json()["results"]] == ids[-8:-3]


def _allocations(asset, count: int) -> None:
    """``count`` allocations, each to an institution and by a user of its own."""
    for n in range(count):
        AllocationFactory(
            asset=asset, right="process_use",
            party_institution=InstitutionFactory(name=f"合作研究机构{n}"),
            created_by=UserFactory(username=f"author{n}"),
        )


def count_queries(client, url, params=None) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    return len(queries), response.json()


@pytest.mark.parametrize("who", ["steward", "superuser"])
def test_list_query_count_does_not_grow_with_the_page(request, scene, api, who):
    _allocations(scene["asset"], 30)
    as_user(api, request.getfixturevalue(who))
    api.get(LIST)  # warm up: the user's memberships are read once per user object
    small, data = count_queries(api, LIST, {"page_size": 2})
    assert len(data["results"]) == 2
    large, data = count_queries(api, LIST, {"page_size": 30})
    assert len(data["results"]) == 30
    assert small == large <= 2, (small, large)


def test_token_list_query_count_is_bounded(scene, django_assert_max_num_queries):
    _allocations(scene["asset"], 20)
    token = Token.objects.create(user=scene["steward"])
    client = APIClient(HTTP_AUTHORIZATION=f"Token {token.key}")
    with django_assert_max_num_queries(3):  # the token, the memberships, the page
        assert len(client.get(LIST, {"page_size": 20}).json()["results"]) == 20


def test_history_query_count_does_not_grow(scene, held, api):
    from rights import services

    as_user(api, scene["steward"])
    api.get(history_url(held.pk))  # warm up
    few, _ = count_queries(api, history_url(held.pk))
    for n in range(8):
        services.change_allocation(held, {"scope": f"范围{n}"}, scene["steward"],
                                   reason=f"第{n}次")
    many, data = count_queries(api, history_url(held.pk))
    assert len(data["results"]) == 9
    assert few == many <= 3, (few, many)
