"""Registration applications through the API, across the permission matrix.

Reading follows ``RegistrationApplication.objects.restrict``: a hidden application answers
404 exactly like a missing one. Writes go through ``registry.workflow``: the same checks,
steps, audit and ledger writes as the pages. Anonymous writes are 401, a visible application
the user may not act on is 403, unusable input is 400, a step the state does not allow (or a
change based on a stale asset) is 409 — and whenever the answer is not 2xx, nothing in the
database has changed.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.choices import Role
from audit.models import AuditAction, AuditEvent
from catalog.choices import AssetStatus
from catalog.models import CatalogClass, DataAsset
from inbox.models import Notification
from registry import workflow
from registry.choices import ApplicationKind, ApplicationState, Transition
from registry.ledger import REGISTER_FIELDS
from registry.models import ApplicationEvent, RegistrationApplication
from registry.numbers import PATTERN

from ..factories import MembershipFactory, UserFactory
from ..registry.conftest import ledger_data
from .conftest import as_user, keys, walk

pytestmark = pytest.mark.django_db
S = ApplicationState
LIST = reverse("api:application-list")


def detail(pk: int) -> str:
    return reverse("api:application-detail", args=[pk])


def step_url(pk: int, step: str) -> str:
    return reverse(f"api:application-{step}", args=[pk])


def draft(user, institution, **data) -> RegistrationApplication:
    application = workflow.create(ApplicationKind.REGISTER, institution_id=institution.pk,
                                  actor=user)
    return workflow.save_draft(application.pk, actor=user, payload=ledger_data(**data))


def submitted(user, institution, **data) -> RegistrationApplication:
    application = draft(user, institution, **data)
    return workflow.take(application.pk, Transition.SUBMIT, actor=user)


def snapshot(application=None) -> tuple:
    """Everything a refused request must leave as it was."""
    row = None
    if application is not None:
        row = RegistrationApplication.objects.filter(pk=application.pk).values().get()
    return (row, RegistrationApplication.objects.count(), ApplicationEvent.objects.count(),
            DataAsset.objects.count(), AuditEvent.objects.count(),
            Notification.objects.count())


@pytest.fixture
def people(world):
    """The scoping world (tests.catalog.test_scoping), with a registrar at two more
    institutions: 海曙医院 (province 33, city 3302) and 天河医院 (province 44)."""
    assets, users = world
    places = {"h": assets["h_cond"].holder, "o": assets["o_cond"].holder,
              "far": assets["far_cond"].holder}
    for name, place in (("registrar_o", "o"), ("registrar_far", "far")):
        users[name] = MembershipFactory(user=UserFactory(username=name),
                                        institution=places[place], role=Role.REGISTRAR).user
    return assets, users, places


@pytest.fixture
def apps(people):
    """A draft and a submitted registration of 西湖医院, a draft of 海曙医院 and a submitted
    registration of 天河医院."""
    _assets, users, places = people
    return {
        "h_draft": draft(users["registrar_h"], places["h"], code="APP-H1"),
        "h_submitted": submitted(users["registrar_h"], places["h"], code="APP-H2"),
        "o_draft": draft(users["registrar_o"], places["o"], code="APP-O1"),
        "far_submitted": submitted(users["registrar_far"], places["far"], code="APP-F1"),
    }


def client_for(users, who: str) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    user = users[who]
    if not user.is_authenticated:
        return client
    if not user.is_active:  # a deactivated account's token no longer works
        token = Token.objects.create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client
    return as_user(client, user)


ALL = {"h_draft", "h_submitted", "o_draft", "far_submitted"}
OF_H = {"h_draft", "h_submitted"}
IN_33 = OF_H | {"o_draft"}
VISIBLE = {
    "anonymous": set(),
    "superuser": ALL,
    "national_steward": ALL,
    "steward33": IN_33,
    "steward3301": OF_H,  # 海曙医院 is in 宁波 (3302), not 杭州
    "steward44": {"far_submitted"},
    "staff33": IN_33,
    "auditor33": IN_33,
    "registrar_h": OF_H,
    "admin_h": OF_H,
    "registrar_o": {"o_draft"},
    "registrar_far": {"far_submitted"},
    "officer": set(),  # grants reach assets, never applications
    "lapsed_steward": set(),
    "nobody": set(),
    "inactive_steward": set(),
}




# --- Reading ----------------------------------------------------------------------------


@pytest.mark.parametrize("who", list(VISIBLE))
def test_list_and_detail_follow_the_scoping_rule(people, apps, who):
    _assets, users, _places = people
    client = client_for(users, who)
    if not users[who].is_active and who != "anonymous":
        assert client.get(LIST).status_code == 401
        return
    listed = [row["id"] for row in walk(client, LIST)]
    assert len(listed) == len(set(listed))
    assert keys(apps, listed) == VISIBLE[who]
    assert set(listed) == set(RegistrationApplication.objects.restrict(users[who])
                              .values_list("pk", flat=True))
    missing = client.get(detail(10**9)).json()
    for key, application in apps.items():
        response = client.get(detail(application.pk))
        if key in VISIBLE[who]:
            assert response.status_code == 200, (who, key)
            assert response.json()["id"] == application.pk
        else:
            assert response.status_code == 404, (who, key)
            assert response.json() == missing == {"detail": "Not found.", "code": "not_found"}


def test_representation(people, apps, api):
    _assets, users, places = people
    catalog_class = CatalogClass.objects.order_by("code").first()
    application = apps["h_submitted"]
    payload = dict(application.payload, catalog_class=str(catalog_class.pk),
                   _visited=["basic"], elements=[{"name": "住院号", "is_personal": "on"}])
    RegistrationApplication.objects.filter(pk=application.pk).update(payload=payload)
    as_user(api, users["steward33"])
    data = api.get(detail(application.pk)).json()
    assert (data["kind"], data["kind_label"]) == ("register", "Register a new asset")
    assert (data["state"], data["state_label"]) == ("submitted", "Submitted")
    assert data["institution"] == {"id": places["h"].pk, "name": "西湖医院",
                                   "credit_code": places["h"].credit_code}
    assert data["applicant"] == {"id": users["registrar_h"].pk,
                                 "name": str(users["registrar_h"])}
    assert data["asset"] is None and data["decided_by"] is None
    assert data["submitted_at"] and data["decided_at"] is None
    assert data["payload"]["code"] == "APP-H2"
    assert data["payload"]["record_count"] == "120000"
    assert data["payload"]["stored_in_country"] is True
    assert data["payload"]["contains_personal_info"] is False
    assert data["payload"]["catalog_class"] == catalog_class.code
    assert data["payload"]["elements"][0]["is_personal"] is True
    assert "_visited" not in data["payload"]  # the pages' bookkeeping
    assert data["changes"] == [] and data["stale"] is False
    assert [(e["transition"], e["from_state"], e["to_state"], e["actor"]["id"])
            for e in data["events"]] == [("submit", "draft", "submitted",
                                          users["registrar_h"].pk)]
    assert data["events"][0]["transition_label"] == "Submit"


def test_list_queries_do_not_grow_with_rows(people, api, django_assert_max_num_queries):
    _assets, users, places = people
    as_user(api, users["national_steward"])
    for n in range(3):
        submitted(users["registrar_h"], places["h"], code=f"QRY-{n:04d}")
    api.get(LIST)  # the user's reach, computed once per user
    with CaptureQueriesContext(connection) as few:
        assert len(api.get(LIST).json()["results"]) == 3
    catalog_class = CatalogClass.objects.order_by("code").first()
    for n in range(3, 12):
        application = submitted(users["registrar_h"], places["h"], code=f"QRY-{n:04d}",
                                catalog_class=str(catalog_class.pk))
        workflow.take(application.pk, Transition.RETURN, actor=users["steward33"],
                      comment="补充")
    with django_assert_max_num_queries(len(few.captured_queries) + 1):  # + catalog classes
        assert len(api.get(LIST).json()["results"]) == 12
    with django_assert_max_num_queries(4):
        assert api.get(detail(application.pk)).status_code == 200


def test_cursor_pages_newest_first(people, apps, api):
    _assets, users, _places = people
    as_user(api, users["superuser"])
    first = api.get(LIST, {"page_size": 3}).json()
    ids = [row["id"] for row in first["results"]]
    assert ids == sorted(ids, reverse=True) and len(ids) == 3
    rest = walk(api, first["next"])
    assert [row["id"] for row in rest] == sorted({a.pk for a in apps.values()} - set(ids),
                                                 reverse=True)
    bad = api.get(LIST, {"cursor": "garbage"})
    assert bad.status_code == 400 and "cursor" in bad.json()


@pytest.mark.parametrize(("params", "expected"), [
    ({"state": "submitted"}, {"h_submitted", "far_submitted"}),
    ({"state": "draft"}, {"h_draft", "o_draft"}),
    ({"state": "approved"}, set()),
    ({"kind": "register"}, ALL),
    ({"kind": "change"}, set()),
    ({"institution": "far"}, {"far_submitted"}),
    ({"institution": "h", "state": "draft"}, {"h_draft"}),
])
def test_filters(people, apps, api, params, expected):
    _assets, users, places = people
    as_user(api, users["superuser"])
    if "institution" in params:
        params = dict(params, institution=places[params["institution"]].pk)
    assert keys(apps, [row["id"] for row in walk(api, LIST, params)]) == expected


def test_filter_by_asset_and_filters_never_widen_the_scope(people, apps, api):
    _assets, users, places = people
    as_user(api, users["steward3301"])
    assert api.get(LIST, {"institution": places["far"].pk}).json()["results"] == []
    as_user(api, users["superuser"])
    workflow.take(apps["h_submitted"].pk, Transition.APPROVE, actor=users["steward33"])
    asset = DataAsset.objects.get(code="APP-H2")
    rows = api.get(LIST, {"asset": asset.pk}).json()["results"]
    assert [row["id"] for row in rows] == [apps["h_submitted"].pk]


@pytest.mark.parametrize("params", [
    {"state": "nope"}, {"kind": "x"}, {"institution": "abc"}, {"institution": "0"},
    {"institution": "1e30"}, {"institution": "99999999999999999999999"}, {"asset": "-1"},
    {"state": "a\x00"},
])
def test_bad_filter_values_are_400(people, apps, api, params):
    _assets, users, _places = people
    as_user(api, users["superuser"])
    response = api.get(LIST, params)
    assert response.status_code == 400, response.content
    assert set(response.json()) <= {*params, "non_field_errors"}


# --- Creating a draft ---------------------------------------------------------------------

CREATE = {  # a registration for 西湖医院
    "superuser": 201, "registrar_h": 201, "admin_h": 201,
    "national_steward": 403, "steward33": 403, "steward3301": 403, "staff33": 403,
    "auditor33": 403, "registrar_o": 403, "officer": 403, "nobody": 403, "anonymous": 401,
    "inactive_steward": 401,
}


@pytest.mark.parametrize("who", list(CREATE))
def test_create_a_registration_through_the_matrix(people, who):
    _assets, users, places = people
    client = client_for(users, who)
    before = snapshot()
    response = client.post(LIST, {"kind": "register", "institution": places["h"].pk},
                           format="json")
    assert response.status_code == CREATE[who], response.content
    if CREATE[who] == 201:
        data = response.json()
        created = RegistrationApplication.objects.get(pk=data["id"])
        assert (created.kind, created.state, created.institution, created.applicant) == (
            "register", S.DRAFT, places["h"], users[who])
        assert data["state"] == "draft" and data["events"] == []
    else:
        assert snapshot() == before
        assert set(response.json()) == {"detail", "code"}


def test_create_a_change_starts_from_the_asset(people, api):
    assets, users, places = people
    asset = assets["h_cond"]
    as_user(api, users["registrar_h"])
    response = api.post(LIST, {"kind": "change", "asset": asset.pk}, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["institution"]["id"] == places["h"].pk and data["asset"] == asset.pk
    assert data["base_version"] == asset.version
    assert data["payload"]["name"] == asset.name and "code" not in data["payload"]
    assert data["changes"] == [] and data["stale"] is False


@pytest.mark.parametrize(("who", "body", "status", "field"), [
    ("registrar_h", {"kind": "change", "asset": "far_cond"}, 400, "asset"),  # hidden
    ("registrar_h", {"kind": "change", "asset": 10**9}, 400, "asset"),  # missing
    ("registrar_h", {"kind": "change", "asset": "open33"}, 403, None),  # someone else's
    ("registrar_h", {"kind": "change", "asset": "h_draft"}, 400, "non_field_errors"),
    ("registrar_h", {"kind": "deregister"}, 400, "asset"),
    ("registrar_h", {"kind": "change", "asset": "h_cond", "institution": "o"}, 400,
     "institution"),
    ("registrar_h", {"kind": "register"}, 400, "institution"),
    ("registrar_h", {"kind": "register", "institution": "h", "asset": "h_cond"}, 400, "asset"),
    ("registrar_h", {"kind": "nope", "institution": "h"}, 400, "kind"),
    ("registrar_h", {"kind": "register", "institution": "xyz"}, 400, "institution"),
    ("registrar_h", {"kind": "register", "institution": 2**70}, 400, "institution"),
    ("registrar_h", {"kind": "register", "institution": 10**9}, 403, None),
    ("registrar_h", {"kind": "register", "institution": "o"}, 403, None),
    ("steward33", {"kind": "change", "asset": "h_cond"}, 403, None),
])
def test_create_refusals_change_nothing(people, who, body, status, field):
    assets, users, places = people
    body = {key: (assets[value].pk if key == "asset" and value in assets else
                  places[value].pk if key == "institution" and value in places else value)
            for key, value in body.items()}
    client = client_for(users, who)
    before = snapshot()
    response = client.post(LIST, body, format="json")
    assert response.status_code == status, response.content
    if field:
        assert field in response.json()
    assert snapshot() == before


def test_create_needs_json(people, api):
    _assets, users, places = people
    as_user(api, users["registrar_h"])
    response = api.post(LIST, {"kind": "register", "institution": places["h"].pk})
    assert response.status_code == 415
    assert api.post(LIST, "[1]", content_type="application/json").status_code == 400


@pytest.mark.parametrize(("where", "body"), [
    ("create", '{"kind": "\\ud800", "institution": 1}'),
    ("create", '{"kind": "register", "institution": "\\ud800"}'),
    ("patch", '{"payload": {"\\ud800": 1}}'),
    ("patch", '{"payload": {"elements": [{"\\udfff": "x"}]}}'),
    ("patch", '{"\\ud800": 1, "grade_reason": "\\ud800"}'),
    ("submit", '{"comment": "\\ud800"}'),
    ("approve", '{"comment": "\\u0000"}'),
])
def test_undecodable_text_is_400_never_500(people, apps, api, where, body):
    """JSON can carry lone surrogates and NUL, which neither UTF-8 nor PostgreSQL take:
    refused, and the refusal itself must still be writable."""
    _assets, users, _places = people
    application = apps["h_draft"] if where in ("patch", "submit") else apps["h_submitted"]
    as_user(api, users["superuser"])
    before = snapshot(application)
    url = (LIST if where == "create" else detail(application.pk) if where == "patch"
           else step_url(application.pk, where))
    send = api.patch if where == "patch" else api.post
    response = send(url, body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert snapshot(application) == before


# --- Saving the draft -------------------------------------------------------------------


def test_patch_merges_values_into_the_draft(people, apps, api):
    _assets, users, _places = people
    application = apps["h_draft"]
    catalog_class = CatalogClass.objects.order_by("code").first()
    as_user(api, users["registrar_h"])
    response = api.patch(detail(application.pk), {
        "payload": {"record_count": 5000, "stored_in_country": False, "name": "新名称",
                    "catalog_class": catalog_class.code, "purposes": ["research"],
                    "elements": [{"name": "住院号", "data_type": "S", "is_personal": True}]},
        "grade_reason": "仅含汇总数据",
    }, format="json")
    assert response.status_code == 200, response.content
    application.refresh_from_db()
    payload = application.payload
    assert (payload["record_count"], payload["stored_in_country"], payload["name"]) == (
        "5000", "", "新名称")
    assert payload["catalog_class"] == str(catalog_class.pk)  # as the page stores it
    assert payload["purposes"] == ["research"]
    assert payload["elements"][0]["is_personal"] == "on"
    assert payload["description"] == "住院病案首页"  # untouched values stay
    assert application.grade_reason == "仅含汇总数据" and application.statement == ""
    data = response.json()
    assert data["payload"]["catalog_class"] == catalog_class.code
    assert data["payload"]["stored_in_country"] is False
    assert data["grade_reason"] == "仅含汇总数据"
    # Only the statement: the payload stays.
    assert api.patch(detail(application.pk), {"statement": "说明"},
                     format="json").status_code == 200
    application.refresh_from_db()
    assert application.payload == payload and application.statement == "说明"


@pytest.mark.parametrize(("body", "field"), [
    ({"payload": "x"}, "payload"),
    ({"payload": [1]}, "payload"),
    ({"payload": {"status": "registered"}}, "payload"),
    ({"payload": {"_visited": []}}, "payload"),
    ({"payload": {"holder": 1}}, "payload"),
    ({"payload": {"name": {"a": 1}}}, "name"),
    ({"payload": {"name": ["a"]}}, "name"),
    ({"payload": {"name": "a\x00b"}}, "name"),
    ('{"payload": {"name": "a\\ud800b"}}', "name"),  # sent as is: no encoder takes it
    ('{"payload": {"elements": [{"name": "\\udfff"}]}}', "elements"),
    ({"payload": {"stored_in_country": "yes"}}, "stored_in_country"),
    ({"payload": {"purposes": "research"}}, "purposes"),
    ({"payload": {"purposes": [1]}}, "purposes"),
    ({"payload": {"catalog_class": "NOPE"}}, "catalog_class"),
    ({"payload": {"elements": {"name": "x"}}}, "elements"),
    ({"payload": {"elements": [{"nonsense": "x"}]}}, "elements"),
    ({"payload": {"elements": [{"name": ["x"]}]}}, "elements"),
    ({"grade_reason": "x" * 1001}, "grade_reason"),
    ({"statement": None}, "statement"),
    ({"statement": "a\x00"}, "statement"),
])
def test_bad_draft_values_are_400_and_change_nothing(people, apps, api, body, field):
    _assets, users, _places = people
    application = apps["h_draft"]
    as_user(api, users["registrar_h"])
    before = snapshot(application)
    if isinstance(body, str):
        response = api.patch(detail(application.pk), body, content_type="application/json")
    else:
        response = api.patch(detail(application.pk), body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert all(isinstance(message, str) for message in response.json()[field])
    assert snapshot(application) == before


def test_change_applications_propose_no_code(people, api):
    assets, users, _places = people
    application = workflow.create(ApplicationKind.CHANGE, institution_id=assets["h_cond"]
                                  .holder_id, actor=users["registrar_h"],
                                  asset_id=assets["h_cond"].pk)
    as_user(api, users["registrar_h"])
    before = snapshot(application)
    response = api.patch(detail(application.pk), {"payload": {"code": "NEW"}}, format="json")
    assert response.status_code == 400 and "payload" in response.json()
    assert snapshot(application) == before


@pytest.mark.parametrize(("who", "status"), [
    ("registrar_h", 200), ("admin_h", 200), ("superuser", 200),
    ("steward33", 403), ("staff33", 403), ("auditor33", 403),
    ("registrar_o", 404), ("steward44", 404), ("officer", 404), ("anonymous", 401),
])
def test_patch_through_the_matrix(people, apps, who, status):
    _assets, users, _places = people
    application = apps["h_draft"]
    client = client_for(users, who)
    before = snapshot(application)
    response = client.patch(detail(application.pk), {"payload": {"name": f"改名 {who}"}},
                            format="json")
    assert response.status_code == status, response.content
    application.refresh_from_db()
    if status == 200:
        assert application.payload["name"] == f"改名 {who}"
    else:
        assert snapshot(application) == before
        assert set(response.json()) == {"detail", "code"}


def test_patch_of_a_submitted_application_is_409(people, apps, api):
    _assets, users, _places = people
    application = apps["h_submitted"]
    as_user(api, users["registrar_h"])
    before = snapshot(application)
    response = api.patch(detail(application.pk), {"statement": "x"}, format="json")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "A submitted or decided application can no longer be edited.",
        "code": "wrong_state"}
    assert snapshot(application) == before


# --- Workflow steps ---------------------------------------------------------------------

SUBMIT = {  # the draft of 西湖医院, filed by its registrar
    "registrar_h": 200, "admin_h": 200, "superuser": 200,
    "steward33": 403, "steward3301": 403, "national_steward": 403, "staff33": 403,
    "auditor33": 403,
    "steward44": 404, "registrar_o": 404, "registrar_far": 404, "officer": 404,
    "nobody": 404, "lapsed_steward": 404,
    "anonymous": 401, "inactive_steward": 401,
}
REVIEW = {  # the submitted registration of 西湖医院, filed by its registrar
    "steward33": 200, "steward3301": 200, "national_steward": 200, "superuser": 200,
    "registrar_h": 403, "admin_h": 403, "staff33": 403, "auditor33": 403,
    "steward44": 404, "registrar_o": 404, "registrar_far": 404, "officer": 404,
    "nobody": 404, "lapsed_steward": 404,
    "anonymous": 401, "inactive_steward": 401,
}


@pytest.mark.parametrize("who", list(SUBMIT))
def test_submit_through_the_matrix(people, apps, who):
    _assets, users, _places = people
    application = apps["h_draft"]
    client = client_for(users, who)
    before = snapshot(application)
    response = client.post(step_url(application.pk, "submit"), {}, format="json")
    assert response.status_code == SUBMIT[who], response.content
    application.refresh_from_db()
    if SUBMIT[who] == 200:
        assert application.state == S.SUBMITTED
        assert response.json()["state"] == "submitted"
        assert response.json()["events"][-1]["actor"]["id"] == users[who].pk
        # The reviewers are told, as after a submission on the page.
        assert Notification.objects.filter(user=users["steward33"],
                                           link__endswith=f"/{application.pk}/").exists()
    else:
        assert snapshot(application) == before
        assert set(response.json()) == {"detail", "code"}


@pytest.mark.parametrize("who", list(REVIEW))
def test_review_steps_through_the_matrix(people, who):
    _assets, users, places = people
    client = client_for(users, who)
    for step in ("return", "approve", "reject"):
        application = submitted(users["registrar_h"], places["h"], code=f"REV-{step.upper()}")
        before = snapshot(application)
        response = client.post(step_url(application.pk, step), {"comment": "意见"},
                               format="json")
        assert response.status_code == REVIEW[who], (who, step, response.content)
        application.refresh_from_db()
        if REVIEW[who] == 200:
            target = {"return": S.RETURNED, "approve": S.APPROVED, "reject": S.REJECTED}[step]
            assert application.state == target == response.json()["state"]
            event = application.events.latest("id")
            assert (event.transition, event.actor, event.comment) == (step, users[who], "意见")
            assert DataAsset.objects.filter(code="REV-APPROVE").exists() == (step != "return")
        else:
            assert snapshot(application) == before
            assert set(response.json()) == {"detail", "code"}


def test_nobody_reviews_their_own_application(people, api):
    _assets, users, places = people
    steward = users["steward33"]
    MembershipFactory(user=steward, institution=places["h"], role=Role.REGISTRAR)
    application = submitted(steward, places["h"], code="OWN-1")
    as_user(api, steward)
    before = snapshot(application)
    response = api.post(step_url(application.pk, "approve"), {}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == "Nobody reviews their own application."
    assert snapshot(application) == before


@pytest.mark.parametrize(("key", "step", "who"), [
    ("h_draft", "approve", "steward33"),  # approving a draft
    ("h_draft", "return", "steward33"),
    ("h_draft", "reject", "steward33"),
    ("h_submitted", "submit", "registrar_h"),  # submitting twice
    ("approved", "reject", "steward33"),  # deciding twice
    ("approved", "approve", "steward33"),
    ("approved", "submit", "registrar_h"),
])
def test_a_step_the_state_does_not_allow_is_409(people, apps, api, key, step, who):
    _assets, users, _places = people
    if key == "approved":
        application = workflow.take(apps["h_submitted"].pk, Transition.APPROVE,
                                    actor=users["steward3301"])
    else:
        application = apps[key]
    as_user(api, users[who])
    before = snapshot(application)
    response = api.post(step_url(application.pk, step), {"comment": "意见"}, format="json")
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "wrong_state" and "is not possible now" in body["detail"]
    assert set(body) == {"detail", "code"}
    assert snapshot(application) == before


@pytest.mark.parametrize(("key", "step", "who"), [
    ("h_draft", "approve", "staff33"), ("h_draft", "approve", "registrar_h"),
    ("h_submitted", "submit", "steward33"), ("h_submitted", "refresh", "auditor33"),
])
def test_a_step_not_yours_is_403_whatever_the_state(people, apps, api, key, step, who):
    """Whoever may never take the step hears so (403), not that the state is wrong."""
    _assets, users, _places = people
    application = apps[key]
    as_user(api, users[who])
    before = snapshot(application)
    response = api.post(step_url(application.pk, step), {"comment": "意见"}, format="json")
    assert response.status_code == 403, response.content
    assert response.json()["code"] == "permission_denied"
    assert snapshot(application) == before


@pytest.mark.parametrize("step", ["return", "reject"])
@pytest.mark.parametrize("comment", [None, "", "   "])
def test_return_and_reject_need_a_comment(people, apps, api, step, comment):
    _assets, users, _places = people
    application = apps["h_submitted"]
    as_user(api, users["steward33"])
    before = snapshot(application)
    body = {} if comment is None else {"comment": comment}
    response = api.post(step_url(application.pk, step), body, format="json")
    assert response.status_code == 400, response.content
    assert "comment is required" in response.json()["non_field_errors"][0]
    assert snapshot(application) == before


@pytest.mark.parametrize("body", [{"comment": "x" * 2001}, {"comment": None}, {"comment": ["x"]},
                                  "[]", '"text"'])
def test_bad_step_bodies_are_400(people, apps, api, body):
    _assets, users, _places = people
    application = apps["h_submitted"]
    as_user(api, users["steward33"])
    before = snapshot(application)
    if isinstance(body, str):
        response = api.post(step_url(application.pk, "approve"), body,
                            content_type="application/json")
    else:
        response = api.post(step_url(application.pk, "approve"), body, format="json")
    assert response.status_code == 400, response.content
    assert snapshot(application) == before


def test_an_invalid_draft_is_refused_on_submit_with_field_errors(people, apps, api):
    _assets, users, _places = people
    application = apps["h_draft"]
    as_user(api, users["registrar_h"])
    assert api.patch(detail(application.pk), {"payload": {
        "name": "", "sharing_condition": "", "record_count": "many", "purposes": ["nope"],
    }}, format="json").status_code == 200  # a draft keeps anything
    before = snapshot(application)
    response = api.post(step_url(application.pk, "submit"), {}, format="json")
    assert response.status_code == 400, response.content
    errors = response.json()
    assert {"name", "sharing_condition", "record_count", "purposes"} <= set(errors)
    assert all(isinstance(m, str) for messages in errors.values() for m in messages)
    assert snapshot(application) == before


def test_a_grade_below_the_suggestion_needs_a_reason(people, apps, api):
    _assets, users, _places = people
    application = apps["h_draft"]
    as_user(api, users["registrar_h"])
    api.patch(detail(application.pk), {"payload": {"grade": 1}}, format="json")
    response = api.post(step_url(application.pk, "submit"), {}, format="json")
    assert response.status_code == 400 and "grade" in response.json()
    api.patch(detail(application.pk), {"grade_reason": "仅含机构汇总统计"}, format="json")
    response = api.post(step_url(application.pk, "submit"), {}, format="json")
    assert response.status_code == 200, response.content


def test_bad_data_elements_are_refused_on_submit(people, apps, api):
    _assets, users, _places = people
    application = apps["h_draft"]
    as_user(api, users["registrar_h"])
    api.patch(detail(application.pk), {"payload": {"elements": [{"name": ""}]}},
              format="json")
    before = snapshot(application)
    response = api.post(step_url(application.pk, "submit"), {}, format="json")
    assert response.status_code == 400
    assert "Data element 1" in response.json()["non_field_errors"][0]
    assert snapshot(application) == before


# --- What approval writes -----------------------------------------------------------------


def trail(application) -> tuple:
    """The step and the audit record an approval leaves (without ids and times)."""
    event = application.events.get(transition=Transition.APPROVE)
    audit = AuditEvent.objects.get(action=AuditAction.APPLICATION_APPROVED,
                                   target_id=str(application.pk))
    return ((event.from_state, event.to_state, event.actor_id, event.comment),
            (audit.actor_id, audit.actor_name, audit.target_type_id, audit.reason,
             audit.institution_id, audit.region_id, audit.before, audit.after))


def test_an_api_approval_writes_what_a_page_approval_writes(people, api, client):
    _assets, users, places = people
    steward, registrar = users["steward33"], users["registrar_h"]
    by_page = submitted(registrar, places["h"], code="PAGE-1")
    by_api = submitted(registrar, places["h"], code="API-1")
    client.force_login(steward)
    client.post(reverse("registry:transition", args=[by_page.pk]),
                {"transition": Transition.APPROVE, "comment": "同意"})
    as_user(api, steward)
    response = api.post(step_url(by_api.pk, "approve"), {"comment": "同意"}, format="json")
    assert response.status_code == 200, response.content
    by_page.refresh_from_db()
    by_api.refresh_from_db()
    assert by_page.state == by_api.state == S.APPROVED
    assert trail(by_api) == trail(by_page)
    assert trail(by_api)[0] == (S.SUBMITTED, S.APPROVED, steward.pk, "同意")
    # The asset is in the ledger, registered, with its number, written by the reviewer.
    asset = DataAsset.objects.get(code="API-1")
    assert asset.status == AssetStatus.REGISTERED and asset.holder == places["h"]
    assert PATTERN.match(asset.registration_number)
    assert asset.registration_number.startswith("ZJ-")
    assert asset.history.first().history_user == steward
    data = response.json()
    assert data["asset"] == asset.pk
    assert data["registration_number"] == asset.registration_number
    assert data["decided_by"] == {"id": steward.pk, "name": str(steward)}
    assert data["decided_at"]
    assert [e["transition"] for e in data["events"]] == ["submit", "approve"]
    # The applicant is told, as after the page's approval.
    assert Notification.objects.filter(user=registrar, link__endswith=f"/{by_api.pk}/").exists()
    assert Notification.objects.filter(user=registrar,
                                       link__endswith=f"/{by_page.pk}/").exists()


def test_a_change_through_the_api(people, api):
    assets, users, _places = people
    asset = assets["h_cond"]
    registrar, steward = users["registrar_h"], users["steward33"]
    as_user(api, registrar)
    created = api.post(LIST, {"kind": "change", "asset": asset.pk}, format="json").json()
    pk = created["id"]
    assert api.patch(detail(pk), {"payload": {"record_count": 5000}},
                     format="json").status_code == 200
    data = api.get(detail(pk)).json()
    assert data["changes"] == [{"field": "record_count", "label": "Records",
                                "current": "1000", "proposed": "5000"}]
    assert api.post(step_url(pk, "submit"), {}, format="json").status_code == 200
    as_user(api, steward)
    response = api.post(step_url(pk, "approve"), {}, format="json")
    assert response.status_code == 200, response.content
    asset.refresh_from_db()
    assert asset.record_count == 5000 and asset.version == 2
    latest = asset.history.first()
    assert latest.history_user == steward and "approved" in latest.history_change_reason


def test_a_stale_change_is_409_until_refreshed(people, api):
    assets, users, _places = people
    asset = assets["h_cond"]
    registrar, steward = users["registrar_h"], users["steward33"]
    application = workflow.create(ApplicationKind.CHANGE, institution_id=asset.holder_id,
                                  actor=registrar, asset_id=asset.pk)
    workflow.save_draft(application.pk, actor=registrar,
                        payload=dict(application.payload, record_count="5000"))
    workflow.take(application.pk, Transition.SUBMIT, actor=registrar)
    asset.responsible_person = "李四"  # someone else changes another field meanwhile
    asset.save()
    as_user(api, steward)
    assert api.get(detail(application.pk)).json()["stale"] is True
    before = snapshot(application)
    response = api.post(step_url(application.pk, "approve"), {}, format="json")
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "stale_base"
    assert "The asset changed after this application was made" in body["detail"]
    assert snapshot(application) == before
    asset.refresh_from_db()
    assert asset.record_count == 1000
    # Refreshing waits until the reviewer returns it.
    as_user(api, registrar)
    response = api.post(step_url(application.pk, "refresh"), format="json")
    assert response.status_code == 409 and response.json()["code"] == "wrong_state"
    as_user(api, steward)
    assert api.post(step_url(application.pk, "return"), {"comment": "请刷新"},
                    format="json").status_code == 200
    as_user(api, steward)
    assert api.post(step_url(application.pk, "refresh")).status_code == 403  # not theirs
    as_user(api, registrar)
    response = api.post(step_url(application.pk, "refresh"))
    assert response.status_code == 200, response.content
    assert response.json()["stale"] is False
    assert response.json()["base_version"] == asset.version
    assert api.post(step_url(application.pk, "submit"), {}, format="json").status_code == 200
    as_user(api, steward)
    assert api.post(step_url(application.pk, "approve"), {},
                    format="json").status_code == 200
    asset.refresh_from_db()
    assert asset.record_count == 5000 and asset.responsible_person == "李四"


def test_refresh_refusals(people, apps, api):
    _assets, users, _places = people
    application = apps["h_draft"]
    before = snapshot(application)
    assert APIClient().post(step_url(application.pk, "refresh")).status_code == 401
    as_user(api, users["registrar_h"])
    response = api.post(step_url(application.pk, "refresh"))
    assert response.status_code == 400  # a registration has nothing to refresh against
    assert "non_field_errors" in response.json()
    as_user(api, users["registrar_o"])
    assert api.post(step_url(application.pk, "refresh")).status_code == 404
    assert snapshot(application) == before


def test_a_deregistration_through_the_api(people, api):
    assets, users, _places = people
    asset = assets["h_cond"]
    as_user(api, users["registrar_h"])
    pk = api.post(LIST, {"kind": "deregister", "asset": asset.pk}, format="json").json()["id"]
    response = api.post(step_url(pk, "submit"), {}, format="json")
    assert response.status_code == 400  # say why
    assert "deregistered" in response.json()["non_field_errors"][0]
    assert api.patch(detail(pk), {"statement": "系统已下线"}, format="json").status_code == 200
    assert api.post(step_url(pk, "submit"), {}, format="json").status_code == 200
    as_user(api, users["steward33"])
    assert api.post(step_url(pk, "approve"), {}, format="json").status_code == 200
    asset.refresh_from_db()
    assert asset.status == AssetStatus.DEREGISTERED


def test_a_whole_registration_with_a_token(people):
    _assets, users, places = people
    registrar = APIClient(HTTP_ACCEPT_LANGUAGE="en", HTTP_AUTHORIZATION=(
        f"Token {Token.objects.create(user=users['registrar_h']).key}"))
    steward = APIClient(HTTP_ACCEPT_LANGUAGE="en", HTTP_AUTHORIZATION=(
        f"Token {Token.objects.create(user=users['steward3301']).key}"))
    response = registrar.post(LIST, {"kind": "register", "institution": places["h"].pk},
                              format="json")
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    values = {name: value for name, value in ledger_data(code="TOKEN-1").items()}
    values.update(stored_in_country=True, contains_personal_info=False, catalog_class=None)
    assert registrar.patch(detail(pk), {"payload": values}, format="json").status_code == 200
    assert registrar.post(step_url(pk, "submit"), format="json").status_code == 200
    response = steward.post(step_url(pk, "approve"), {"comment": "同意"}, format="json")
    assert response.status_code == 200, response.content
    asset = DataAsset.objects.get(code="TOKEN-1")
    assert asset.stored_in_country and asset.record_count == 120000
    assert response.json()["registration_number"] == asset.registration_number


def test_anonymous_writes_are_401(people, apps):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    application = apps["h_draft"]
    before = snapshot(application)
    answers = [client.post(LIST, {"kind": "register", "institution": 1}, format="json"),
               client.patch(detail(application.pk), {"statement": "x"}, format="json")]
    answers += [client.post(step_url(application.pk, step), {}, format="json")
                for step in ("submit", "return", "approve", "reject", "refresh")]
    for response in answers:
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"
    assert snapshot(application) == before


# --- Whatever a client sends: never a server error ----------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=6,
)
PAYLOADS = st.dictionaries(
    st.sampled_from([*REGISTER_FIELDS, "elements", "status", "_visited"]),
    JSON | st.sampled_from(["", "1", "2024-01-01", "330106", "on", "99999999999999999999"]),
    max_size=6,
)


@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(payload=PAYLOADS)
def test_any_draft_is_saved_or_refused_and_submitting_it_never_fails(people, payload):
    _assets, users, places = people
    client = as_user(APIClient(HTTP_ACCEPT_LANGUAGE="en"), users["registrar_h"])
    application = draft(users["registrar_h"], places["h"], code="HYPO-1")
    before = snapshot(application)
    response = client.patch(detail(application.pk), {"payload": payload}, format="json")
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        assert snapshot(application) == before
        return
    before = snapshot(application)
    response = client.post(step_url(application.pk, "submit"), {}, format="json")
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        assert snapshot(application) == before
