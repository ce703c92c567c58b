"""Runs and findings through the API: the permission matrix (list, detail, start, answer,
close, reopen), the page's filters giving the page's findings, a run started through the API
that really runs, cursor pages and bounded query counts."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from django.urls import reverse

from accounts.choices import Role
from catalog.models import DataAsset
from inventory import services
from inventory.choices import FindingRule, FindingStatus, RunKind, RunStatus
from inventory.models import Finding, Run

from ..factories import DataAssetFactory, InstitutionFactory, MembershipFactory, UserFactory, region
from ..inventory.conftest import jobs_in_process, run_now  # noqa: F401  (the fixture, reused)
from .conftest import as_user, walk

pytestmark = pytest.mark.django_db

RUNS = reverse("api:run-list")
FINDINGS = reverse("api:finding-list")
PAGE = reverse("inventory:finding_list")


def run_url(pk) -> str:
    return reverse("api:run-detail", args=[pk])


def finding_url(pk, action: str = "") -> str:
    return reverse(f"api:finding-{action or 'detail'}", args=[pk])



@pytest.fixture
def checked(world):
    """The scoping world after three inventories (national, province 33, province 44), with
    findings about assets of 西湖医院 (330106), 海曙医院 (330203) and 天河医院 (440106), one
    of them resolved; and a registrar of 海曙医院 besides the world's people."""
    assets, users = world
    h, o, far = (assets[key].holder for key in ("h_cond", "o_cond", "far_cond"))
    users["registrar_o"] = MembershipFactory(
        user=UserFactory(username="registrar_o"), institution=o, role=Role.REGISTRAR
    ).user
    subjects = {
        "near": DataAssetFactory(holder=h, grade=4, stored_in_country=False),
        "near_low": DataAssetFactory(holder=h, grade=1, categories=["health_status"]),
        "fixed": DataAssetFactory(holder=h, grade=4, stored_in_country=False),
        "other": DataAssetFactory(holder=o, grade=4, stored_in_country=False),
        "far": DataAssetFactory(holder=far, grade=4, stored_in_country=False),
    }
    runs = {"national": run_now(RunKind.INVENTORY, user=users["superuser"])}
    DataAsset.objects.filter(pk=subjects["fixed"].pk).update(stored_in_country=True)
    runs["p33"] = run_now(RunKind.INVENTORY, region("33"), user=users["steward33"])
    runs["p44"] = run_now(RunKind.INVENTORY, region("44"), user=users["steward44"])
    by_asset = {asset.pk: key for key, asset in subjects.items()}
    findings = {by_asset[f.asset_id]: f for f in Finding.objects.all()}
    assert set(findings) == set(subjects)  # the world's own assets are clean
    assert findings["fixed"].status == FindingStatus.RESOLVED
    return {"users": users, "runs": runs, "findings": findings, "institutions": {
        "h": h, "o": o, "far": far}}


ALL = {"near", "near_low", "fixed", "other", "far"}
OF_H = {"near", "near_low", "fixed"}
IN_33 = OF_H | {"other"}
EVERY_RUN = {"national", "p33", "p44"}
FORBIDDEN, SIGNED_OUT = "403", "401"

# user → (findings visible, runs visible, findings answerable, findings closable);
# FORBIDDEN / SIGNED_OUT: the lists refuse the user.
MATRIX = {
    "superuser": (ALL, EVERY_RUN, ALL, ALL),
    "national_steward": (ALL, EVERY_RUN, set(), ALL),
    "steward33": (IN_33, {"p33"}, set(), IN_33),
    "steward3301": (OF_H, set(), set(), OF_H),
    "steward44": ({"far"}, {"p44"}, set(), {"far"}),
    "staff33": (IN_33, {"p33"}, set(), set()),
    "auditor33": (IN_33, {"p33"}, set(), set()),
    "registrar_h": (OF_H, set(), OF_H, set()),
    "admin_h": (OF_H, set(), OF_H, set()),
    "registrar_o": ({"other"}, set(), {"other"}, set()),
    "officer": (FORBIDDEN, FORBIDDEN, set(), set()),
    "nobody": (FORBIDDEN, FORBIDDEN, set(), set()),
    "lapsed_steward": (FORBIDDEN, FORBIDDEN, set(), set()),
    "anonymous": (SIGNED_OUT, SIGNED_OUT, set(), set()),
}


def _client(api, checked, who):
    return as_user(api, checked["users"][who])


@pytest.mark.parametrize("who", list(MATRIX))
def test_lists_and_details_follow_the_scoping_rule(checked, api, who):
    findings_seen, runs_seen, _answerable, _closable = MATRIX[who]
    client = _client(api, checked, who)
    for url, expected, rows in ((FINDINGS, findings_seen, checked["findings"]),
                                (RUNS, runs_seen, checked["runs"])):
        if expected in (FORBIDDEN, SIGNED_OUT):
            response = client.get(url)
            assert response.status_code == int(expected), (who, url)
            assert set(response.json()) == {"detail", "code"}
            expected = set()
        else:
            params = {"status": "all"} if url == FINDINGS else {}
            listed = {row["id"] for row in walk(client, url, params)}
            assert listed == {rows[key].pk for key in expected}, (who, url)
        missing = client.get(f"{url}{10**9}/")
        for key, row in rows.items():
            response = client.get(f"{url}{row.pk}/")
            if who == "anonymous":
                assert response.status_code == 401
            elif key in expected:
                assert response.status_code == 200, (who, key)
                assert response.json()["id"] == row.pk
            else:
                # A hidden run or finding is indistinguishable from a missing one.
                assert response.status_code == 404, (who, key)
                assert response.json() == missing.json()


@pytest.mark.parametrize("who", list(MATRIX))
def test_answer_close_and_reopen_follow_the_roles(checked, api, who):
    findings_seen, _runs, answerable, closable = MATRIX[who]
    visible = set() if findings_seen in (FORBIDDEN, SIGNED_OUT) else findings_seen
    client = _client(api, checked, who)

    def expect(key, allowed):
        if who == "anonymous":
            return 401
        if key not in visible:
            return 404
        return 200 if key in allowed else 403

    for key in ("near", "other", "far"):
        finding = checked["findings"][key]
        steps = [
            ("answer", {"answer": "已迁回境内机房"}, answerable, FindingStatus.ANSWERED),
            ("close", {"note": "经批准的境外灾备"}, closable, FindingStatus.CLOSED),
            ("reopen", None, closable, None),
        ]
        for action, body, allowed, then in steps:
            before = Finding.objects.filter(pk=finding.pk).values().get()
            response = client.post(finding_url(finding.pk, action), body, format="json")
            status = expect(key, allowed)
            assert response.status_code == status, (who, key, action, response.content)
            after = Finding.objects.filter(pk=finding.pk).values().get()
            if status != 200:
                assert after == before, (who, key, action)  # nothing changed
                assert set(response.json()) == {"detail", "code"}
                continue
            assert response.json()["status"] == after["status"]
            if then is None:  # reopened: answered again if it had an answer
                then = FindingStatus.ANSWERED if after["answer"] else FindingStatus.OPEN
            assert after["status"] == then, (who, key, action)
            actor = checked["users"][who].pk
            if action == "answer":
                assert after["answered_by_id"] == actor and after["answer"] == "已迁回境内机房"
            if action == "close":
                assert after["closed_by_id"] == actor and after["closing_note"]


@pytest.mark.parametrize("who", list(MATRIX))
def test_who_may_start_a_run_and_where(checked, api, who):
    start_scopes = {
        "superuser": {"330000", "330106", "440000", None, "all"},
        "national_steward": {"330000", "330106", "440000", None, "all"},
        "steward33": {"330000", "330106"},
        "steward3301": {"330106"},
        "steward44": {"440000"},
    }.get(who, set())
    client = _client(api, checked, who)
    started: dict[str | None, int] = {}
    for scope in ("330000", "330106", "440000", None, "all"):
        before = Run.objects.count()
        response = client.post(RUNS, {"kind": RunKind.INVENTORY, "scope": scope}, format="json")
        key = None if scope == "all" else scope
        if who == "anonymous":
            assert response.status_code == 401
        elif scope not in start_scopes:
            assert response.status_code == 403, (who, scope)
            assert response.json()["code"] == "permission_denied"
        elif key in started:  # the same kind and scope under way: joined, not doubled
            assert response.status_code == 200, (who, scope)
            assert response.json()["id"] == started[key]
        else:
            assert response.status_code == 201, (who, scope, response.content)
            run = Run.objects.get(pk=response.json()["id"])
            assert response["Location"] == run_url(run.pk)
            assert (run.kind, run.scope_id, run.started_by) == (
                RunKind.INVENTORY, key, checked["users"][who])
            assert run.status == RunStatus.QUEUED  # queued after commit, not yet worked
            started[key] = run.pk
        assert Run.objects.count() == before + (response.status_code == 201)


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "nonsense", "scope": "330000"}, "kind"),
    ({"scope": "330000"}, "kind"),
    ({"kind": "inventory", "scope": "999999"}, "scope"),
    ({"kind": "inventory", "scope": "abc\x00"}, "scope"),
    ({"kind": "inventory", "scope": ""}, "scope"),
    ({"kind": "inventory", "scope": "3300001"}, "scope"),
    ({"kind": "inventory"}, "scope"),
    (["inventory"], "non_field_errors"),
])
def test_a_bad_start_is_400_and_starts_nothing(checked, api, body, field):
    client = _client(api, checked, "steward33")
    before = Run.objects.count()
    response = client.post(RUNS, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Run.objects.count() == before


def test_a_start_in_another_format_is_415(checked, api):
    client = _client(api, checked, "steward33")
    response = client.post(RUNS, "kind=inventory&scope=330000",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert not Run.objects.filter(status=RunStatus.QUEUED).exists()


def test_no_right_is_403_before_the_body_is_read(checked, api):
    client = _client(api, checked, "registrar_h")
    assert client.post(RUNS, {"kind": "nonsense"}, format="json").status_code == 403
    near = checked["findings"]["near"]
    assert client.post(finding_url(near.pk, "close"), {}, format="json").status_code == 403
    client = _client(api, checked, "steward33")
    assert client.post(finding_url(near.pk, "answer"), {}, format="json").status_code == 403


def test_a_run_started_through_the_api_runs_and_its_findings_appear(
    checked, api, jobs_in_process, django_capture_on_commit_callbacks  # noqa: F811
):
    client = _client(api, checked, "steward33")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(RUNS, {"kind": "inventory", "scope": "330106"}, format="json")
        assert response.status_code == 201, response.content
    assert callbacks  # sent to the workers once its record was committed
    run_id = response.json()["id"]
    run = client.get(run_url(run_id)).json()
    assert run["status"] == "succeeded" and run["active"] is False and run["percent"] == 100
    assert run["scope"] == "330106" and run["started_by"]["id"] == checked["users"]["steward33"].pk
    counts = {row["rule"]: row for row in run["counts"]}
    assert counts[FindingRule.STORED_ABROAD]["found"] == 1  # near (fixed is fixed)
    assert counts[FindingRule.STORED_ABROAD]["new"] == 0  # the national run found it first
    assert counts[FindingRule.STORED_ABROAD]["severity"] == 4
    assert [row["severity"] for row in run["counts"]] == sorted(
        (row["severity"] for row in run["counts"]), reverse=True)
    found = {row["id"] for row in walk(client, FINDINGS, {"run": run_id})}
    near, near_low = checked["findings"]["near"], checked["findings"]["near_low"]
    assert found == {near.pk, near_low.pk}
    assert walk(client, FINDINGS, {"run": run_id, "new": "true"}) == []
    near.refresh_from_db()
    assert near.last_run_id == run_id


def test_representations(checked, api):
    client = _client(api, checked, "steward33")
    near = checked["findings"]["near"]
    data = client.get(finding_url(near.pk)).json()
    assert (data["rule"], data["rule_label"]) == (
        "stored_abroad", "Grade 3 or higher stored outside China")
    assert (data["severity"], data["severity_label"]) == (4, "High")
    assert (data["status"], data["status_label"]) == ("open", "Open")
    assert data["asset"] == {"id": near.asset_id, "code": near.asset.code,
                             "name": near.asset.name}
    h = checked["institutions"]["h"]
    assert data["institution"] == {"id": h.pk, "name": h.name, "credit_code": h.credit_code}
    assert data["evidence"] == "Grade 4 data stored at: 院内数据中心."
    assert data["first_run"] == checked["runs"]["national"].pk
    assert data["last_run"] == checked["runs"]["p33"].pk
    assert data["answered_by"] is None and data["closed_by"] is None
    run = client.get(run_url(checked["runs"]["p33"].pk)).json()
    assert (run["kind"], run["scope"], run["scope_name"]) == ("inventory", "330000", "浙江省")
    assert run["started_by"] == {"id": checked["users"]["steward33"].pk,
                                 "name": str(checked["users"]["steward33"])}
    assert run["counts"] == [
        {"rule": "stored_abroad", "rule_label": "Grade 3 or higher stored outside China",
         "severity": 4, "found": 2, "new": 0, "resolved": 1},
        {"rule": "grade_below_category", "rule_label": "Grade lower than its categories imply",
         "severity": 3, "found": 1, "new": 0, "resolved": 0},
    ]
    national = client.get(run_url(checked["runs"]["national"].pk))
    assert national.status_code == 404
    as_user(api, checked["users"]["superuser"])
    assert api.get(run_url(checked["runs"]["national"].pk)).json()["scope"] is None
    assert api.get(run_url(checked["runs"]["national"].pk)).json()["scope_name"] == "Nationwide"


def test_evidence_and_labels_follow_the_request_language(checked):
    from rest_framework.test import APIClient

    near = checked["findings"]["near"]
    user = checked["users"]["registrar_h"]
    chinese = as_user(APIClient(HTTP_ACCEPT_LANGUAGE="zh-hans"), user)
    data = chinese.get(finding_url(near.pk)).json()
    assert data["evidence"] == "4 级数据存储于：院内数据中心。"
    assert data["rule_label"] == "3 级及以上数据存储于境外"
    assert data["severity_label"] == "高"


# --- The page's filters ------------------------------------------------------------------------


def _queries(checked) -> list[str]:
    runs, h = checked["runs"], checked["institutions"]["h"]
    return [
        "", "rule=stored_abroad", "rule=grade_below_category", "severity=4", "severity=3",
        "status=all", "status=resolved", "status=open", "status=closed", "status=answered",
        f"run={runs['p33'].pk}", f"run={runs['p33'].pk}&status=all",
        f"run={runs['national'].pk}&new=1", f"run={runs['national'].pk}&new=1&status=all",
        f"run={runs['p33'].pk}&new=true&status=all", f"run={runs['p44'].pk}",
        f"institution={h.pk}", f"institution={h.pk}&status=all&severity=4", "new=1",
        "rule=stored_abroad&severity=3",
    ]


@pytest.mark.parametrize("who", ["superuser", "steward33", "steward44", "registrar_h"])
def test_the_filters_select_what_the_page_selects(checked, api, client, who):
    user = checked["users"][who]
    client.force_login(user)
    as_user(api, user)
    services.close(checked["findings"]["near_low"], "已核实", user=checked["users"]["superuser"])
    services.answer(checked["findings"]["other"], "已处理", user=checked["users"]["superuser"])
    nonempty = 0
    for query in _queries(checked):
        page = client.get(f"{PAGE}?{query}")
        response = api.get(FINDINGS, dict(parse_qsl(query)))
        if page.status_code == 404:  # a run the user may not see: 404 there, 400 here
            assert response.status_code == 400 and "run" in response.json(), (who, query)
            continue
        assert page.status_code == 200
        on_page = [finding.pk for finding, _evidence in page.context["findings"]]
        through_api = [row["id"] for row in walk(api, FINDINGS, dict(parse_qsl(query)))]
        assert through_api == on_page, (who, query)
        nonempty += bool(on_page)
    assert nonempty >= 5  # the comparison compared something


def test_the_filters_select_the_right_findings(checked, api):
    as_user(api, checked["users"]["superuser"])
    f, runs, h = checked["findings"], checked["runs"], checked["institutions"]["h"]
    services.close(f["near_low"], "已核实", user=checked["users"]["superuser"])
    expected = {
        "": ALL - {"fixed"},  # not yet resolved
        "status=all": ALL,
        "status=resolved": {"fixed"},
        "status=closed": {"near_low"},
        "status=open": {"near", "other", "far"},
        "severity=3": {"near_low"},
        "rule=stored_abroad": {"near", "other", "far"},
        f"institution={h.pk}&status=all": OF_H,
        f"run={runs['p44'].pk}": {"far"},
        f"run={runs['p33'].pk}": {"near", "near_low", "other"},
        f"run={runs['national'].pk}": set(),  # every finding was seen again since
        f"run={runs['national'].pk}&new=1&status=all": ALL,
        f"run={runs['p33'].pk}&new=1&status=all": set(),
    }
    by_pk = {finding.pk: key for key, finding in f.items()}
    for query, keys in expected.items():
        listed = {by_pk[row["id"]] for row in walk(api, FINDINGS, dict(parse_qsl(query)))}
        assert listed == keys, query


@pytest.mark.parametrize("params", [
    {"rule": "nonsense"}, {"severity": "9"}, {"severity": "x"}, {"status": "bogus"},
    {"status": "null"}, {"run": "abc"}, {"run": "0"}, {"run": "-1"}, {"run": "1.5"},
    {"run": "99999999999999999999999"}, {"run": "1000000000"}, {"institution": "x"},
    {"institution": "0"}, {"institution": "1e30"}, {"institution": "99999999999999999999999"},
    {"new": "maybe"}, {"run": "a\x00"},
])
def test_bad_filter_values_are_400_here_and_ignored_on_the_page(checked, api, client, params):
    user = checked["users"]["steward33"]
    as_user(api, user)
    response = api.get(FINDINGS, params)
    assert response.status_code == 400, response.content
    assert set(response.json()) == set(params)
    client.force_login(user)
    page = client.get(PAGE, params)
    if params.get("run") == "1000000000":  # no such run: missing, as on the run's own page
        assert page.status_code == 404
        return
    assert page.status_code == 200  # the page ignores what it cannot use
    assert [f.pk for f, _e in page.context["findings"]] == [
        f.pk for f, _e in client.get(PAGE).context["findings"]]


def test_a_hidden_run_is_refused_like_a_missing_one(checked, api):
    as_user(api, checked["users"]["steward33"])
    hidden = api.get(FINDINGS, {"run": checked["runs"]["p44"].pk})
    missing = api.get(FINDINGS, {"run": 10**9})
    assert hidden.status_code == missing.status_code == 400
    assert hidden.json() == missing.json()


def test_the_page_renders_the_filterset_form(checked, client):
    client.force_login(checked["users"]["steward33"])
    run = checked["runs"]["p33"]
    html = client.get(PAGE, {"run": run.pk, "new": "1", "rule": "stored_abroad"}).content.decode()
    assert f'type="hidden" name="run" value="{run.pk}"' in html
    assert '<option value="stored_abroad" selected>' in html
    assert "All findings" in html and "Not yet resolved" in html
    assert "First found by this run." in html


# --- Wrong state and bad input ----------------------------------------------------------------


def test_wrong_state_and_bad_input_are_400_and_change_nothing(checked, api):
    findings = checked["findings"]
    registrar, steward = checked["users"]["registrar_h"], checked["users"]["steward33"]
    cases = [
        (registrar, findings["fixed"], "answer", {"answer": "已处理"}, "non_field_errors"),
        (registrar, findings["near"], "answer", {"answer": "   "}, "answer"),
        (registrar, findings["near"], "answer", {}, "answer"),
        (registrar, findings["near"], "answer", {"answer": "x" * 4001}, "answer"),
        (registrar, findings["near"], "answer", {"answer": None}, "answer"),
        (registrar, findings["near"], "answer", ["x"], "non_field_errors"),
        (steward, findings["fixed"], "close", {"note": "已核实"}, "non_field_errors"),
        (steward, findings["near"], "close", {"note": ""}, "note"),
        (steward, findings["near"], "close", {"note": {"a": 1}}, "note"),
        (steward, findings["near"], "reopen", None, "non_field_errors"),
    ]
    for user, finding, action, body, field in cases:
        as_user(api, user)
        before = Finding.objects.filter(pk=finding.pk).values().get()
        response = api.post(finding_url(finding.pk, action), body, format="json")
        assert response.status_code == 400, (action, body, response.content)
        assert field in response.json(), (action, body, response.json())
        assert Finding.objects.filter(pk=finding.pk).values().get() == before
    # A closed finding takes no answer and no second closing.
    services.close(findings["near"], "已核实", user=steward)
    as_user(api, registrar)
    assert api.post(finding_url(findings["near"].pk, "answer"), {"answer": "x"},
                    format="json").status_code == 400
    as_user(api, steward)
    assert api.post(finding_url(findings["near"].pk, "close"), {"note": "x"},
                    format="json").status_code == 400
    findings["near"].refresh_from_db()
    assert findings["near"].closing_note == "已核实"


def test_malformed_json_is_400(checked, api):
    as_user(api, checked["users"]["registrar_h"])
    response = api.post(finding_url(checked["findings"]["near"].pk, "answer"), "{not json",
                        content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


# --- Pages of the lists, and their cost -------------------------------------------------------


@pytest.fixture
def many_findings(db, superuser):
    holders = [InstitutionFactory(region=region("330106")) for _ in range(3)]
    for i in range(31):
        DataAssetFactory(holder=holders[i % 3], grade=4, stored_in_country=False)
    steward = MembershipFactory(
        institution=InstitutionFactory(commission=True, region=region("33")), role=Role.STEWARD
    ).user
    for _ in range(3):
        run_now(RunKind.INVENTORY, region("33"), user=steward)
    finding = Finding.objects.order_by("id").first()
    services.answer(finding, "已处理", user=superuser)
    services.close(finding, "已核实", user=steward)
    return steward


def test_cursor_walks_every_finding_once_keeping_the_filters(many_findings, api):
    as_user(api, many_findings)
    rows = walk(api, FINDINGS, {"page_size": 4, "rule": "stored_abroad"})
    ids = [row["id"] for row in rows]
    assert ids == sorted(ids, reverse=True) and len(ids) == 31
    assert set(ids) == set(Finding.objects.values_list("pk", flat=True))
    rows = walk(api, FINDINGS, {"page_size": 4, "status": "closed"})
    assert len(rows) == 1 and rows[0]["closed_by"]["id"] == many_findings.pk
    runs = walk(api, RUNS, {"page_size": 2})
    assert [row["id"] for row in runs] == list(
        Run.objects.order_by("-id").values_list("pk", flat=True))


def test_list_query_counts_do_not_grow_with_the_page(many_findings, api,
                                                    django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    as_user(api, many_findings)
    counts = {}
    for url, params in ((FINDINGS, {"status": "all"}), (RUNS, {})):
        for size in (2, 30):
            with CaptureQueriesContext(connection) as queries:
                response = api.get(url, {**params, "page_size": size})
            assert response.status_code == 200
            assert len(response.data["results"]) == min(size, 31 if url == FINDINGS else 3)
            counts[url, size] = len(queries)
        assert counts[url, 2] == counts[url, 30], url
    with django_assert_max_num_queries(3):  # memberships, findings, (no count: keyset)
        api.get(FINDINGS, {"page_size": 30, "run": Run.objects.first().pk})
    with django_assert_max_num_queries(2):
        api.get(RUNS, {"page_size": 30})
