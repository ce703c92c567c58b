"""The run and finding pages: who may start and see what, progress, answers and closing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.choices import Role
from inventory.choices import FindingRule, FindingStatus, RunKind, RunStatus
from inventory.models import Finding, Run
from tests.factories import (
    DataAssetFactory,
    InstitutionFactory,
    MembershipFactory,
    UserFactory,
    region,
)

from .conftest import run_now

pytestmark = pytest.mark.django_db


def county_steward(code: str, username: str):
    commission = InstitutionFactory(commission=True, region=region(code))
    return MembershipFactory(user=UserFactory(username=username), institution=commission,
                             role=Role.STEWARD).user


@pytest.fixture
def xihu_steward(db):
    return county_steward("330106", "xihu")


@pytest.fixture
def shangcheng_steward(db):
    return county_steward("330102", "shangcheng")


def test_a_steward_starts_a_run_and_sees_it_finish(client, xihu_steward, hospital,
                                                   jobs_in_process,
                                                   django_capture_on_commit_callbacks):
    DataAssetFactory(holder=hospital, grade=4, stored_in_country=False)
    client.force_login(xihu_steward)
    page = client.get(reverse("inventory:run_list"))
    assert page.status_code == 200
    assert [choice[0] for choice in page.context["form"].fields["scope"].choices] == ["330106"]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("inventory:run_start"),
                               {"kind": RunKind.INVENTORY, "scope": "330106"})
    assert len(callbacks) >= 1  # the run was sent only once its record was committed
    run = Run.objects.get()
    assert response.status_code == 302 and response["Location"] == run.get_absolute_url()
    assert run.status == RunStatus.SUCCEEDED and run.started_by == xihu_steward
    detail = client.get(run.get_absolute_url())
    assert str(FindingRule.STORED_ABROAD.label) in detail.content.decode()
    progress = client.get(reverse("inventory:run_progress", args=[run.pk])).json()
    assert progress == {"status": "succeeded", "status_label": "Finished", "active": False,
                        "percent": 100, "assets_done": 1, "assets_total": 1,
                        "chunks_done": 1, "chunks_total": 1, "chunks_failed": 0}


def test_a_county_steward_cannot_start_or_see_a_run_of_another_county(
    client, xihu_steward, shangcheng_steward, django_capture_on_commit_callbacks
):
    client.force_login(xihu_steward)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("inventory:run_start"),
                               {"kind": RunKind.INVENTORY, "scope": "330102"})
    assert response.status_code == 302 and not Run.objects.exists() and not callbacks
    other = run_now(RunKind.INVENTORY, region("330102"), user=shangcheng_steward)
    mine = run_now(RunKind.INVENTORY, region("330106"), user=xihu_steward)
    province = run_now(RunKind.INVENTORY, region("330000"))
    for url in (other.get_absolute_url(), reverse("inventory:run_progress", args=[other.pk]),
                province.get_absolute_url(),
                reverse("inventory:finding_list") + f"?run={other.pk}"):
        assert client.get(url).status_code == 404, url
    listed = client.get(reverse("inventory:run_list")).context["runs"]
    assert listed == [mine]


def test_a_provincial_steward_sees_the_county_runs_inside_the_province(client, steward,
                                                                       xihu_steward):
    county = run_now(RunKind.INVENTORY, region("330106"), user=xihu_steward)
    far = run_now(RunKind.INVENTORY, region("440106"))
    client.force_login(steward)
    assert client.get(county.get_absolute_url()).status_code == 200
    assert client.get(far.get_absolute_url()).status_code == 404


def test_people_without_a_role_in_the_checks_are_refused(client, db):
    client.force_login(UserFactory())
    assert client.get(reverse("inventory:run_list")).status_code == 403
    assert client.get(reverse("inventory:finding_list")).status_code == 403
    assert client.post(reverse("inventory:run_start"), {"kind": "inventory"}).status_code == 403


@pytest.fixture
def findings(hospital, far_hospital):
    near = DataAssetFactory(holder=hospital, grade=4, stored_in_country=False)
    DataAssetFactory(holder=far_hospital, grade=4, stored_in_country=False)
    run = run_now(RunKind.INVENTORY)
    return run, Finding.objects.get(asset=near)


def test_the_registrar_sees_and_answers_the_findings_of_the_institution(client, registrar,
                                                                        findings):
    run, near = findings
    client.force_login(registrar)
    listed = client.get(reverse("inventory:finding_list")).context["findings"]
    assert [finding for finding, _evidence in listed] == [near]
    assert client.get(reverse("inventory:run_list")).context["runs"] == []  # runs: stewards'
    far = Finding.objects.exclude(pk=near.pk).get()
    assert client.get(far.get_absolute_url()).status_code == 404
    page = client.get(near.get_absolute_url())
    assert page.context["answer_form"] is not None and page.context["close_form"] is None
    response = client.post(reverse("inventory:finding_answer", args=[near.pk]),
                           {"answer": "已迁回境内机房，见 2026 年 11 月迁移报告"})
    assert response.status_code == 302
    near.refresh_from_db()
    assert near.status == FindingStatus.ANSWERED and near.answered_by == registrar
    # Closing is for stewards.
    response = client.post(reverse("inventory:finding_close", args=[near.pk]), {"note": "x"})
    assert response.status_code == 403
    near.refresh_from_db()
    assert near.status == FindingStatus.ANSWERED


def test_an_empty_answer_is_refused_in_chinese_and_changes_nothing(zh_client, registrar,
                                                                    findings):
    _run, near = findings
    zh_client.force_login(registrar)
    response = zh_client.post(reverse("inventory:finding_answer", args=[near.pk]),
                              {"answer": "   "})
    assert response.status_code == 400
    assert "该字段是必填项" in response.content.decode()
    near.refresh_from_db()
    assert near.status == FindingStatus.OPEN and near.answer == ""


def test_the_steward_closes_and_reopens(client, steward, findings):
    _run, near = findings
    client.force_login(steward)
    response = client.post(reverse("inventory:finding_close", args=[near.pk]),
                           {"note": "已核实：境外为经批准的灾备副本"})
    assert response.status_code == 302
    near.refresh_from_db()
    assert near.status == FindingStatus.CLOSED and near.closed_by == steward
    client.post(reverse("inventory:finding_reopen", args=[near.pk]))
    near.refresh_from_db()
    assert near.status == FindingStatus.OPEN


def test_the_findings_list_filters(client, steward, hospital):
    abroad = DataAssetFactory(holder=hospital, grade=4, stored_in_country=False)
    DataAssetFactory(holder=hospital, grade=1, categories=["health_status"])
    run = run_now(RunKind.INVENTORY, region("330000"))
    client.force_login(steward)
    url = reverse("inventory:finding_list")

    def listed(query):
        return {(f.rule, f.asset_id) for f, _e in client.get(url + query).context["findings"]}

    assert len(listed("")) == 2
    assert listed("?rule=stored_abroad") == {(FindingRule.STORED_ABROAD, abroad.pk)}
    assert listed("?severity=4") == {(FindingRule.STORED_ABROAD, abroad.pk)}
    assert len(listed(f"?run={run.pk}&new=1")) == 2
    assert listed("?status=resolved") == set()
    national = run_now(RunKind.INVENTORY)  # beyond the province: not the steward's to read
    assert client.get(url + f"?run={national.pk}").status_code == 404
    assert len(listed("?rule=nonsense")) == 2  # an unknown filter is ignored


def test_new_findings_are_notified_to_the_owners_once(client, registrar, hospital,
                                                     django_capture_on_commit_callbacks):
    from inbox.models import Notification

    DataAssetFactory(holder=hospital, grade=4, stored_in_country=False)
    DataAssetFactory(holder=hospital, grade=1, categories=["health_status"])
    with django_capture_on_commit_callbacks(execute=True):
        run = run_now(RunKind.INVENTORY)
    notes = Notification.objects.filter(user=registrar)
    assert notes.count() == 1
    assert "2" in notes.get().subject
    # The link opens, for the registrar, the institution's findings this run found.
    client.force_login(registrar)
    page = client.get(notes.get().link)
    assert page.status_code == 200
    assert {f.first_run_id for f, _e in page.context["findings"]} == {run.pk}
    assert len(page.context["findings"]) == 2
    with django_capture_on_commit_callbacks(execute=True):
        run_now(RunKind.INVENTORY)  # nothing new: nothing more to say
    assert notes.count() == 1


def test_a_national_steward_starts_a_nationwide_run(client, django_capture_on_commit_callbacks):
    national = InstitutionFactory(commission=True, region=None)
    user = MembershipFactory(institution=national, role=Role.STEWARD).user
    client.force_login(user)
    scope = client.get(reverse("inventory:run_list")).context["form"].fields["scope"]
    assert scope.choices[0][0] == "all"  # a value of its own: an empty one is "not chosen"
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("inventory:run_start"), {"kind": RunKind.INVENTORY, "scope": "all"})
    run = Run.objects.get()
    assert run.scope is None and run.started_by == user
