"""Allocating, changing and ending: the steward's jurisdiction re-checked inside the
transaction, the rules enforced, history written with actor and reason, nothing deleted."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from rights import services
from rights.models import RightsAllocation

from ..factories import AllocationFactory
from .conftest import hold_data

pytestmark = pytest.mark.django_db


def test_a_steward_allocates_in_jurisdiction(steward, asset):
    allocation = services.allocate(asset, hold_data(asset), steward, reason="登记持有权")
    assert (allocation.asset, allocation.party_institution, allocation.right) == (
        asset, asset.holder, "hold")
    assert allocation.created_by == steward
    record = allocation.history.get()
    assert (record.history_type, record.history_user, record.history_change_reason) == (
        "+", steward, "登记持有权")


def test_a_superuser_allocates_anywhere(superuser, far_hospital):
    from ..factories import DataAssetFactory

    far = DataAssetFactory(holder=far_hospital)
    assert services.allocate(far, hold_data(far), superuser).pk


@pytest.mark.parametrize("who", ["registrar", "far_steward"])
def test_only_stewards_in_jurisdiction_allocate(request, who, asset):
    actor = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        services.allocate(asset, hold_data(asset), actor)
    assert not RightsAllocation.objects.exists()
    assert not RightsAllocation.history.exists()


def test_a_rule_breaking_allocation_is_refused_and_writes_nothing(steward, asset, cdc):
    with pytest.raises(ValidationError) as refused:
        services.allocate(asset, hold_data(asset, party_institution=cdc), steward)
    assert set(refused.value.message_dict) == {"party_institution", "purpose", "valid_until"}
    assert not RightsAllocation.objects.exists()
    assert not RightsAllocation.history.exists()


def test_ending_is_not_a_status_to_set(steward, asset):
    with pytest.raises(ValidationError):
        services.allocate(asset, hold_data(asset, status="ended"), steward)
    allocation = AllocationFactory(asset=asset)
    with pytest.raises(ValidationError):
        services.change_allocation(allocation, {"status": "ended"}, steward, reason="x")
    allocation.refresh_from_db()
    assert allocation.status == "active"


def test_a_change_is_recorded_with_actor_reason_and_difference(steward, asset):
    allocation = services.allocate(asset, hold_data(asset), steward)
    saved, changed = services.change_allocation(
        allocation, hold_data(asset, scope="全部病案首页字段", status="suspended"), steward,
        reason="核查期间暂停")
    assert sorted(changed) == ["scope", "status"]
    assert (saved.scope, saved.status) == ("全部病案首页字段", "suspended")
    latest = saved.history.first()
    assert (latest.history_type, latest.history_user, latest.history_change_reason) == (
        "~", steward, "核查期间暂停")
    assert latest.diff_against(latest.prev_record).changed_fields == ["scope", "status"]


def test_an_unchanged_allocation_writes_nothing(steward, asset):
    allocation = services.allocate(asset, hold_data(asset), steward)
    saved, changed = services.change_allocation(allocation, hold_data(asset), steward,
                                                reason="x")
    assert changed == [] and saved.history.count() == 1


def test_a_change_needs_a_reason_and_the_rules(steward, asset, cdc):
    allocation = services.allocate(asset, hold_data(asset), steward)
    with pytest.raises(ValidationError):
        services.change_allocation(allocation, {"scope": "x"}, steward, reason="  ")
    with pytest.raises(ValidationError) as refused:
        services.change_allocation(allocation, {"party_institution": cdc}, steward,
                                   reason="改给疾控")
    assert "party_institution" in refused.value.message_dict
    allocation.refresh_from_db()
    assert allocation.party_institution == asset.holder and allocation.history.count() == 1


def test_a_change_by_someone_out_of_reach_is_refused(steward, far_steward, asset):
    allocation = services.allocate(asset, hold_data(asset), steward)
    with pytest.raises(PermissionDenied):
        services.change_allocation(allocation, {"scope": "x"}, far_steward, reason="x")
    allocation.refresh_from_db()
    assert allocation.scope == ""


def test_ending_keeps_the_allocation_and_dates_its_end(steward, asset):
    allocation = services.allocate(asset, hold_data(asset), steward)
    ended = services.end_allocation(allocation, steward, "机构合并，持有权转移")
    assert RightsAllocation.objects.filter(pk=allocation.pk).exists()
    assert (ended.status, ended.valid_until) == ("ended", timezone.localdate())
    record = ended.history.first()
    assert (record.history_type, record.history_user, record.history_change_reason) == (
        "~", steward, "机构合并，持有权转移")


def test_ending_early_ends_today_and_a_past_end_stays(steward, asset):
    later = services.allocate(
        asset, hold_data(asset, valid_until=timezone.localdate() + timedelta(days=90)), steward)
    assert services.end_allocation(later, steward, "提前终止").valid_until == (
        timezone.localdate())
    past = AllocationFactory(asset=asset, valid_until=date(2025, 6, 30))
    assert services.end_allocation(past, steward, "补记终止").valid_until == date(2025, 6, 30)


def test_an_allocation_that_has_not_begun_ends_when_it_would_have(steward, asset):
    start = timezone.localdate() + timedelta(days=10)
    allocation = services.allocate(asset, hold_data(asset, valid_from=start), steward)
    assert services.end_allocation(allocation, steward, "撤回").valid_until == start


def test_a_rule_breaking_allocation_can_be_ended(steward, asset, cdc):
    unbounded = AllocationFactory(asset=asset, party_institution=cdc, right="process_use")
    ended = services.end_allocation(unbounded, steward, "无期限的疾控使用权，予以终止")
    assert ended.status == "ended"


def test_ending_needs_a_reason_reach_and_a_live_allocation(steward, registrar, asset):
    allocation = AllocationFactory(asset=asset)
    with pytest.raises(ValidationError):
        services.end_allocation(allocation, steward, " ")
    with pytest.raises(PermissionDenied):
        services.end_allocation(allocation, registrar, "x")
    services.end_allocation(allocation, steward, "x")
    with pytest.raises(ValidationError):
        services.end_allocation(allocation, steward, "again")
    with pytest.raises(ValidationError):
        services.change_allocation(allocation, {"scope": "x"}, steward, reason="x")
    assert allocation.history.count() == 2  # created, ended
