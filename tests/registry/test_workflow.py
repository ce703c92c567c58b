"""The registration workflow: every step, every refused step, and what approval writes."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from audit.models import AuditAction, AuditEvent
from catalog.choices import AssetStatus
from catalog.models import DataAsset
from registry import workflow
from registry.choices import ApplicationKind, ApplicationState, Transition
from registry.models import ApplicationEvent
from registry.numbers import PATTERN

from ..factories import DataAssetFactory
from .conftest import ledger_data

pytestmark = pytest.mark.django_db
S = ApplicationState


def draft(registrar, hospital, **data):
    application = workflow.create(ApplicationKind.REGISTER, institution_id=hospital.pk,
                                  actor=registrar)
    return workflow.save_draft(application.pk, actor=registrar, payload=ledger_data(**data))


def submitted(registrar, hospital, **data):
    application = draft(registrar, hospital, **data)
    return workflow.take(application.pk, Transition.SUBMIT, actor=registrar)


def test_register_approve_creates_the_asset_with_a_registration_number(registrar, hospital,
                                                                       steward):
    application = submitted(registrar, hospital)
    assert application.state == S.SUBMITTED and application.submitted_at
    approved = workflow.take(application.pk, Transition.APPROVE, actor=steward, comment="同意")
    asset = DataAsset.objects.get(code="REG-0001")
    assert approved.state == S.APPROVED and approved.asset == asset
    assert asset.status == AssetStatus.REGISTERED and asset.holder == hospital
    assert PATTERN.match(asset.registration_number)
    assert asset.registration_number.startswith("ZJ-")
    assert approved.registration_number == asset.registration_number
    assert asset.history.first().history_user == steward
    steps = list(ApplicationEvent.objects.filter(application=application)
                 .values_list("transition", "from_state", "to_state", "actor__username"))
    assert steps == [("submit", S.DRAFT, S.SUBMITTED, "registrar"),
                     ("approve", S.SUBMITTED, S.APPROVED, "steward33")]
    audited = AuditEvent.objects.get(action=AuditAction.APPLICATION_APPROVED)
    assert audited.actor == steward and audited.reason == "同意"
    assert audited.institution == hospital


def test_returned_resubmitted_rejected(registrar, hospital, steward):
    application = submitted(registrar, hospital)
    workflow.take(application.pk, Transition.RETURN, actor=steward, comment="补充数据量")
    workflow.save_draft(application.pk, actor=registrar,
                        payload=ledger_data(record_count="130000"))
    workflow.take(application.pk, Transition.SUBMIT, actor=registrar)
    rejected = workflow.take(application.pk, Transition.REJECT, actor=steward, comment="重复")
    assert rejected.state == S.REJECTED and rejected.decided_by == steward
    assert not DataAsset.objects.filter(code="REG-0001").exists()
    assert ApplicationEvent.objects.filter(application=application).count() == 4


@pytest.mark.parametrize(("state_steps", "transition"), [
    ([], Transition.APPROVE),  # approving a draft
    ([], Transition.RETURN),
    ([Transition.SUBMIT], Transition.SUBMIT),  # submitting twice
    ([Transition.SUBMIT, Transition.APPROVE], Transition.REJECT),  # deciding twice
    ([Transition.SUBMIT, Transition.REJECT], Transition.SUBMIT),
])
def test_illegal_transitions_are_refused_and_change_nothing(registrar, hospital, steward,
                                                            state_steps, transition):
    application = draft(registrar, hospital)
    for step in state_steps:
        actor = registrar if step == Transition.SUBMIT else steward
        workflow.take(application.pk, step, actor=actor, comment="意见")
    application.refresh_from_db()
    before = (application.state, ApplicationEvent.objects.count(), DataAsset.objects.count())
    actor = registrar if transition == Transition.SUBMIT else steward
    with pytest.raises(workflow.WorkflowError, match="is not possible now"):
        workflow.take(application.pk, transition, actor=actor, comment="意见")
    application.refresh_from_db()
    assert (application.state, ApplicationEvent.objects.count(),
            DataAsset.objects.count()) == before


def test_a_registrar_cannot_approve(registrar, hospital):
    application = submitted(registrar, hospital)
    with pytest.raises(PermissionDenied):
        workflow.take(application.pk, Transition.APPROVE, actor=registrar)
    application.refresh_from_db()
    assert application.state == S.SUBMITTED


def test_nobody_reviews_their_own_application(steward_registrar, hospital):
    application = submitted(steward_registrar, hospital)
    with pytest.raises(PermissionDenied, match="own application"):
        workflow.take(application.pk, Transition.APPROVE, actor=steward_registrar)
    assert not DataAsset.objects.exists()


def test_a_reviewer_outside_the_jurisdiction_is_refused(registrar, hospital,
                                                        other_county_steward):
    application = submitted(registrar, hospital)
    with pytest.raises(PermissionDenied):
        workflow.take(application.pk, Transition.APPROVE, actor=other_county_steward)
    assert not DataAsset.objects.exists()


@pytest.mark.parametrize("transition", [Transition.RETURN, Transition.REJECT])
def test_returning_or_rejecting_needs_a_comment(registrar, hospital, steward, transition):
    application = submitted(registrar, hospital)
    with pytest.raises(workflow.WorkflowError, match="comment"):
        workflow.take(application.pk, transition, actor=steward, comment="  ")


def test_an_invalid_draft_cannot_be_submitted(registrar, hospital):
    application = draft(registrar, hospital, name="", sharing_condition="")
    with pytest.raises(workflow.InvalidApplication) as refused:
        workflow.take(application.pk, Transition.SUBMIT, actor=registrar)
    assert {"name", "sharing_condition"} <= set(refused.value.form.errors)
    application.refresh_from_db()
    assert application.state == S.DRAFT


def test_a_grade_below_the_suggestion_needs_a_reason(registrar, hospital):
    application = draft(registrar, hospital, grade="1")
    with pytest.raises(workflow.InvalidApplication) as refused:
        workflow.take(application.pk, Transition.SUBMIT, actor=registrar)
    assert "grade" in refused.value.form.errors
    workflow.save_draft(application.pk, actor=registrar, payload=ledger_data(grade="1"),
                        grade_reason="仅含机构汇总统计，无个人数据")
    assert workflow.take(application.pk, Transition.SUBMIT, actor=registrar).state == S.SUBMITTED


def test_a_code_already_in_the_catalog_is_refused(registrar, hospital):
    DataAssetFactory(holder=hospital, code="REG-0001")
    application = draft(registrar, hospital)
    with pytest.raises(workflow.InvalidApplication) as refused:
        workflow.take(application.pk, Transition.SUBMIT, actor=registrar)
    assert "code" in refused.value.form.errors


def test_change_applies_exactly_its_difference(registrar, hospital, steward):
    asset = DataAssetFactory(holder=hospital, record_count=1000, responsible_person="张三")
    application = workflow.create(ApplicationKind.CHANGE, institution_id=hospital.pk,
                                  actor=registrar, asset_id=asset.pk)
    payload = dict(application.payload, record_count="5000")
    workflow.save_draft(application.pk, actor=registrar, payload=payload)
    workflow.take(application.pk, Transition.SUBMIT, actor=registrar)
    workflow.take(application.pk, Transition.APPROVE, actor=steward)
    asset.refresh_from_db()
    assert asset.record_count == 5000 and asset.responsible_person == "张三"
    assert asset.version == 2
    latest = asset.history.first()
    assert latest.history_user == steward and "approved" in latest.history_change_reason


def test_change_on_a_stale_asset_is_refused_until_refreshed(registrar, hospital, steward):
    asset = DataAssetFactory(holder=hospital, record_count=1000, responsible_person="张三")
    application = workflow.create(ApplicationKind.CHANGE, institution_id=hospital.pk,
                                  actor=registrar, asset_id=asset.pk)
    workflow.save_draft(application.pk, actor=registrar,
                        payload=dict(application.payload, record_count="5000"))
    workflow.take(application.pk, Transition.SUBMIT, actor=registrar)
    # Someone else changes another field meanwhile.
    asset.responsible_person = "李四"
    asset.save()
    with pytest.raises(workflow.WorkflowError, match="version"):
        workflow.take(application.pk, Transition.APPROVE, actor=steward)
    asset.refresh_from_db()
    assert asset.record_count == 1000  # nothing applied
    workflow.take(application.pk, Transition.RETURN, actor=steward, comment="请刷新")
    workflow.refresh(application.pk, actor=registrar)
    workflow.take(application.pk, Transition.SUBMIT, actor=registrar)
    workflow.take(application.pk, Transition.APPROVE, actor=steward)
    asset.refresh_from_db()
    # The applicant's change applied; the other change kept, not reverted.
    assert asset.record_count == 5000 and asset.responsible_person == "李四"


def test_a_change_that_changes_nothing_is_refused(registrar, hospital):
    asset = DataAssetFactory(holder=hospital)
    application = workflow.create(ApplicationKind.CHANGE, institution_id=hospital.pk,
                                  actor=registrar, asset_id=asset.pk)
    with pytest.raises(workflow.WorkflowError, match="changes nothing"):
        workflow.take(application.pk, Transition.SUBMIT, actor=registrar)


def test_deregistration_keeps_the_asset_and_its_history(registrar, hospital, steward):
    asset = DataAssetFactory(holder=hospital, registration_number="ZJ-2025-00000007")
    application = workflow.create(ApplicationKind.DEREGISTER, institution_id=hospital.pk,
                                  actor=registrar, asset_id=asset.pk)
    workflow.save_draft(application.pk, actor=registrar, payload=application.payload,
                        statement="系统已下线")
    workflow.take(application.pk, Transition.SUBMIT, actor=registrar)
    workflow.take(application.pk, Transition.APPROVE, actor=steward)
    asset.refresh_from_db()
    assert asset.status == AssetStatus.DEREGISTERED
    assert asset.registration_number == "ZJ-2025-00000007"
    assert asset.history.count() == 2
    assert not DataAsset.objects.visible_to(None).filter(pk=asset.pk).exists()


def test_only_the_holders_people_file_applications(far_hospital, registrar):
    with pytest.raises(PermissionDenied):
        workflow.create(ApplicationKind.REGISTER, institution_id=far_hospital.pk,
                        actor=registrar)
