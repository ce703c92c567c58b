"""Each rights-review rule on its own, and the revocation of expired permissions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from access.models import AssetGroupGrant, AssetUserGrant
from accounts.choices import InstitutionType, Role
from audit.models import AuditAction, AuditEvent
from inventory.choices import FindingRule, FindingStatus, RunKind
from inventory.models import Finding
from rights.choices import AllocationStatus, PartyKind, Right
from rights.models import RightsAllocation
from tests.factories import (
    DataAssetFactory,
    InstitutionFactory,
    MembershipFactory,
    UserFactory,
    region,
)

from .conftest import found, run_now

pytestmark = pytest.mark.django_db

TODAY = date.today


def allocate(asset, right=Right.HOLD, party=None, **fields) -> RightsAllocation:
    """An allocation written straight to the table, as an import might have left it."""
    kind = PartyKind.INSTITUTION if party is not None or right == Right.HOLD else (
        PartyKind.DATA_SUBJECTS)
    if kind == PartyKind.INSTITUTION and party is None:
        party = asset.holder
    fields.setdefault("legal_basis", "《数据二十条》第三条")
    fields.setdefault("valid_from", TODAY() - timedelta(days=400))
    return RightsAllocation.objects.create(
        asset=asset, right=right, party_kind=kind, party_institution=party,
        party_description="" if party else "本院就诊患者", **fields,
    )


@pytest.fixture
def cdc(db):
    return InstitutionFactory(name="杭州市疾病预防控制中心", type=InstitutionType.CDC,
                              region=region("330100"))


@pytest.fixture
def held(hospital):
    """A registered asset whose holding right is allocated."""
    asset = DataAssetFactory(holder=hospital)
    allocate(asset)
    return asset


def subject(allocation) -> str:
    return f"allocation:{allocation.pk}"


def test_allocations_past_their_end_and_ending_soon(held):
    past = allocate(held, Right.PROCESS_USE, valid_until=TODAY() - timedelta(days=1))
    soon = allocate(held, Right.PROCESS_USE, valid_until=TODAY() + timedelta(days=30))
    later = allocate(held, Right.PROCESS_USE, valid_until=TODAY() + timedelta(days=31))
    ended = allocate(held, Right.PROCESS_USE, valid_until=TODAY() - timedelta(days=9),
                     status=AllocationStatus.ENDED)
    run_now(RunKind.RIGHTS_REVIEW)
    assert found(FindingRule.ALLOCATION_EXPIRED) == {(held.pk, subject(past))}
    assert found(FindingRule.ALLOCATION_EXPIRING) == {(held.pk, subject(soon))}
    assert later.pk and ended.pk


def test_permissions_ending_within_thirty_days(held):
    view = Permission.objects.get(codename="view_dataasset")
    soon = AssetUserGrant.objects.create(
        user=UserFactory(), permission=view, content_object=held, reason="流调",
        expires_at=timezone.now() + timedelta(days=29))
    AssetUserGrant.objects.create(
        user=UserFactory(), permission=view, content_object=held, reason="科研",
        expires_at=timezone.now() + timedelta(days=40))
    group = AssetGroupGrant.objects.create(
        group=Group.objects.create(name="监测组"), permission=view, content_object=held,
        reason="监测", expires_at=timezone.now() + timedelta(days=2))
    run_now(RunKind.RIGHTS_REVIEW)
    assert found(FindingRule.GRANT_EXPIRING) == {
        (held.pk, f"usergrant:{soon.pk}"), (held.pk, f"groupgrant:{group.pk}")}


def test_expired_permissions_are_revoked_and_recorded(held, steward):
    view = Permission.objects.get(codename="view_dataasset")
    expired = AssetUserGrant.objects.create(
        user=UserFactory(username="old_reader"), permission=view, content_object=held,
        reason="2024 年流调", expires_at=timezone.now() - timedelta(hours=1))
    live = AssetUserGrant.objects.create(
        user=UserFactory(), permission=view, content_object=held, reason="流调",
        expires_at=timezone.now() + timedelta(days=90))
    AuditEvent.objects.all().delete()
    run = run_now(RunKind.RIGHTS_REVIEW, user=steward)
    assert list(AssetUserGrant.objects.values_list("pk", flat=True)) == [live.pk]
    event = AuditEvent.objects.get(action=AuditAction.GRANT_REVOKED)
    assert event.target_id == str(expired.pk) and event.actor == steward
    assert event.before["grantee"] == "old_reader" and event.after is None
    assert event.institution == held.holder and event.region_province_id == "330000"
    finding = Finding.objects.get(rule=FindingRule.GRANT_REVOKED)
    assert finding.status == FindingStatus.RESOLVED and finding.subject == f"usergrant:{expired.pk}"
    assert run.counts[FindingRule.GRANT_REVOKED]["found"] == 1
    run_now(RunKind.RIGHTS_REVIEW)  # nothing left to revoke: nothing recorded twice
    assert AuditEvent.objects.filter(action=AuditAction.GRANT_REVOKED).count() == 1


def test_public_health_rights_need_a_purpose_and_an_end(held, cdc):
    bounded = allocate(held, Right.PROCESS_USE, cdc, purpose="传染病监测",
                       valid_until=TODAY() + timedelta(days=365))
    no_end = allocate(held, Right.PROCESS_USE, cdc, purpose="传染病监测")
    no_purpose = allocate(held, Right.PROCESS_USE, cdc, valid_until=TODAY() + timedelta(days=99))
    own = DataAssetFactory(holder=cdc)  # the CDC's own data: it holds it without conditions
    allocate(own)
    allocate(own, Right.PROCESS_USE, cdc)
    officer = UserFactory()
    MembershipFactory(user=officer, institution=cdc, role=Role.PUBLIC_HEALTH_OFFICER)
    view = Permission.objects.get(codename="view_dataasset")
    open_ended = AssetUserGrant.objects.create(user=officer, permission=view,
                                               content_object=held, reason="流调")
    AssetUserGrant.objects.create(user=UserFactory(), permission=view, content_object=held,
                                  reason="院内质控")  # not a public-health officer
    run_now(RunKind.RIGHTS_REVIEW)
    assert found(FindingRule.PUBLIC_HEALTH_UNBOUNDED) == {
        (held.pk, subject(no_end)), (held.pk, subject(no_purpose)),
        (held.pk, f"usergrant:{open_ended.pk}")}
    assert bounded.pk


def test_public_health_agency_given_product_operation(held, cdc):
    excessive = allocate(held, Right.PRODUCT_OPERATE, cdc, purpose="监测",
                         valid_until=TODAY() + timedelta(days=9))
    allocate(held, Right.PROCESS_USE, cdc, purpose="监测", valid_until=TODAY() + timedelta(days=99))
    run_now(RunKind.RIGHTS_REVIEW)
    assert found(FindingRule.PUBLIC_HEALTH_EXCESSIVE) == {(held.pk, subject(excessive))}


def test_resource_rights_given_to_data_subjects(held):
    use = allocate(held, Right.PROCESS_USE)  # no party: the data subjects
    allocate(held, Right.ACCESS)
    allocate(held, Right.WITHDRAW_CONSENT)
    run_now(RunKind.RIGHTS_REVIEW)
    assert found(FindingRule.SUBJECT_RESOURCE_RIGHT) == {(held.pk, subject(use))}


def test_assets_without_a_holding_right(hospital, held):
    bare = DataAssetFactory(holder=hospital)
    lapsed = DataAssetFactory(holder=hospital)
    allocate(lapsed, valid_until=TODAY() - timedelta(days=1))
    suspended = DataAssetFactory(holder=hospital)
    allocate(suspended, status=AllocationStatus.SUSPENDED)
    future = DataAssetFactory(holder=hospital)
    allocate(future, valid_from=TODAY() + timedelta(days=5))
    draft = DataAssetFactory(holder=hospital, status="draft")
    run_now(RunKind.RIGHTS_REVIEW)
    assert found(FindingRule.NO_HOLDER) == {
        (bare.pk, ""), (lapsed.pk, ""), (suspended.pk, ""), (future.pk, "")}
    assert draft.pk and held.pk


def test_grade_five_with_product_operation(hospital):
    secret = DataAssetFactory(holder=hospital, grade=5)
    allocate(secret)
    operated = allocate(secret, Right.PRODUCT_OPERATE)
    grade4 = DataAssetFactory(holder=hospital, grade=4)
    allocate(grade4)
    allocate(grade4, Right.PRODUCT_OPERATE)
    run_now(RunKind.RIGHTS_REVIEW)
    assert found(FindingRule.GRADE5_PRODUCT) == {(secret.pk, subject(operated))}


def test_an_ended_allocation_resolves_its_finding(held):
    use = allocate(held, Right.PROCESS_USE)
    run_now(RunKind.RIGHTS_REVIEW)
    assert found(FindingRule.SUBJECT_RESOURCE_RIGHT) == {(held.pk, subject(use))}
    RightsAllocation.objects.filter(pk=use.pk).update(status=AllocationStatus.ENDED)
    second = run_now(RunKind.RIGHTS_REVIEW)
    assert found(FindingRule.SUBJECT_RESOURCE_RIGHT) == set()
    assert second.counts[FindingRule.SUBJECT_RESOURCE_RIGHT]["resolved"] == 1


def test_an_inventory_does_not_resolve_review_findings(hospital):
    bare = DataAssetFactory(holder=hospital)
    run_now(RunKind.RIGHTS_REVIEW)
    run_now(RunKind.INVENTORY)
    assert found(FindingRule.NO_HOLDER) == {(bare.pk, "")}


def test_expired_permissions_on_a_draft_are_revoked_too(hospital):
    draft = DataAssetFactory(holder=hospital, status="draft")
    view = Permission.objects.get(codename="view_dataasset")
    AssetUserGrant.objects.create(user=UserFactory(), permission=view, content_object=draft,
                                  reason="试用", expires_at=timezone.now() - timedelta(days=1))
    run_now(RunKind.RIGHTS_REVIEW)
    assert not AssetUserGrant.objects.exists()
    assert found(FindingRule.NO_HOLDER) == set()  # a draft needs no holding right yet
