"""Each inventory rule on its own: an asset that breaks it is found, one that keeps it is not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.choices import Role
from catalog.choices import (
    AssetStatus,
    DataCategory,
    OpenAttribute,
    SharingType,
    UpdateFrequency,
)
from catalog.models import DataAsset
from inventory.choices import FindingRule, FindingStatus, RunKind, RunStatus
from inventory.models import Finding
from tests.factories import DataAssetFactory, MembershipFactory, UserFactory

from .conftest import found, run_now

pytestmark = pytest.mark.django_db


def set_fields(asset, **fields) -> None:
    """Write fields straight to the row, as an import or an old rule might have left them."""
    DataAsset.objects.filter(pk=asset.pk).update(**fields)


def test_stale_asset_is_found_and_one_within_frequency_plus_grace_is_not(hospital):
    now = timezone.now()
    late = DataAssetFactory(holder=hospital, update_frequency=UpdateFrequency.MONTHLY,
                            last_data_update=now - timedelta(days=31 + 7 + 1))
    in_grace = DataAssetFactory(holder=hospital, update_frequency=UpdateFrequency.MONTHLY,
                                last_data_update=now - timedelta(days=31 + 6))
    irregular = DataAssetFactory(holder=hospital, update_frequency=UpdateFrequency.IRREGULAR,
                                 last_data_update=now - timedelta(days=3000))
    never = DataAssetFactory(holder=hospital, update_frequency=UpdateFrequency.DAILY,
                             last_data_update=None)
    set_fields(never, registered_at=now - timedelta(days=10))
    run_now(RunKind.INVENTORY)
    assert found(FindingRule.STALE) == {(late.pk, ""), (never.pk, "")}
    evidence = Finding.objects.get(rule=FindingRule.STALE, asset=late).evidence
    assert evidence == f"{late.last_data_update:%Y-%m-%d}"
    assert in_grace.pk and irregular.pk


def test_missing_mandatory_fields_are_named(hospital):
    complete = DataAssetFactory(holder=hospital)
    gaps = DataAssetFactory(holder=hospital)
    set_fields(gaps, storage_location="", purposes=[], record_count=None, storage_bytes=None)
    no_contact = DataAssetFactory(holder=hospital, responsible_phone="", responsible_email="")
    run_now(RunKind.INVENTORY)
    assert found(FindingRule.MISSING_FIELDS) == {(gaps.pk, ""), (no_contact.pk, "")}
    evidence = Finding.objects.get(rule=FindingRule.MISSING_FIELDS, asset=gaps).evidence.split()
    assert evidence == ["purposes", "storage_location", "volume"]
    assert complete.pk


def test_responsible_person_blank_inactive_or_gone_from_the_holder(hospital, far_hospital):
    staff = UserFactory()
    MembershipFactory(user=staff, institution=hospital, role=Role.REGISTRAR)
    left = UserFactory()
    MembershipFactory(user=left, institution=far_hospital, role=Role.REGISTRAR)
    retired = UserFactory(is_active=False)
    MembershipFactory(user=retired, institution=hospital, role=Role.REGISTRAR)
    fine = DataAssetFactory(holder=hospital, responsible_user=staff)
    no_account = DataAssetFactory(holder=hospital, responsible_user=None)
    blank = DataAssetFactory(holder=hospital)
    set_fields(blank, responsible_person="")
    gone = DataAssetFactory(holder=hospital, responsible_user=left)
    inactive = DataAssetFactory(holder=hospital, responsible_user=retired)
    run_now(RunKind.INVENTORY)
    assert found(FindingRule.RESPONSIBLE_GONE) == {
        (blank.pk, ""), (gone.pk, ""), (inactive.pk, "")}
    evidence = dict(Finding.objects.filter(rule=FindingRule.RESPONSIBLE_GONE)
                    .values_list("asset_id", "evidence"))
    assert evidence == {blank.pk: "blank", gone.pk: "left", inactive.pk: "inactive"}
    assert fine.pk and no_account.pk


def test_inactive_holder(hospital, far_hospital):
    active = DataAssetFactory(holder=far_hospital)
    held = DataAssetFactory(holder=hospital)
    hospital.is_active = False
    hospital.save()
    run_now(RunKind.INVENTORY)
    assert found(FindingRule.HOLDER_INACTIVE) == {(held.pk, "")}
    assert active.pk


def test_volume_jump_is_found_against_the_previous_run_and_is_an_event(hospital):
    steady = DataAssetFactory(holder=hospital, record_count=1000)
    grows = DataAssetFactory(holder=hospital, record_count=1000)
    shrinks = DataAssetFactory(holder=hospital, record_count=1000, storage_bytes=10_000)
    first = run_now(RunKind.INVENTORY)
    assert found(FindingRule.VOLUME_JUMP) == set()  # nothing to compare with yet
    set_fields(steady, record_count=9_000)  # ninefold: plausible
    set_fields(grows, record_count=10_001)
    set_fields(shrinks, storage_bytes=4_999)
    run_now(RunKind.INVENTORY)
    jumps = found(FindingRule.VOLUME_JUMP)
    assert {asset for asset, _subject in jumps} == {grows.pk, shrinks.pk}
    assert (grows.pk, "1000>10001 ->-") in jumps
    # Unchanged since: no new jump, and the event stays until a steward closes it.
    third = run_now(RunKind.INVENTORY)
    assert found(FindingRule.VOLUME_JUMP) == jumps
    assert third.counts.get(FindingRule.VOLUME_JUMP, {}).get("found", 0) == 0
    assert first.status == RunStatus.SUCCEEDED


def test_grade_three_or_more_stored_abroad(hospital):
    abroad = DataAssetFactory(holder=hospital, grade=3, stored_in_country=False)
    low_abroad = DataAssetFactory(holder=hospital, grade=2, stored_in_country=False,
                                  categories=[DataCategory.HEALTH_RESOURCES])
    home = DataAssetFactory(holder=hospital, grade=5)
    run_now(RunKind.INVENTORY)
    assert found(FindingRule.STORED_ABROAD) == {(abroad.pk, "")}
    assert low_abroad.pk and home.pk


def test_grade_below_what_the_categories_imply(hospital):
    low = DataAssetFactory(holder=hospital, grade=1,
                           categories=[DataCategory.PERSONAL_ATTRIBUTES])
    mixed = DataAssetFactory(holder=hospital, grade=2,
                             categories=[DataCategory.HEALTH_RESOURCES,
                                         DataCategory.HEALTH_STATUS])
    fine = DataAssetFactory(holder=hospital, grade=1,
                            categories=[DataCategory.HEALTH_RESOURCES])
    public_health_ok = DataAssetFactory(holder=hospital, grade=2,
                                        categories=[DataCategory.PUBLIC_HEALTH])
    run_now(RunKind.INVENTORY)
    assert found(FindingRule.GRADE_BELOW_CATEGORY) == {(low.pk, ""), (mixed.pk, "")}
    assert fine.pk and public_health_ok.pk


def test_sharing_more_open_than_the_grade_allows(hospital):
    unconditional_4 = DataAssetFactory(holder=hospital, grade=4, sharing_condition="",
                                       sharing_type=SharingType.UNCONDITIONAL)
    conditional_5 = DataAssetFactory(holder=hospital, grade=5)
    unconditional_3 = DataAssetFactory(holder=hospital, grade=3, sharing_condition="",
                                       sharing_type=SharingType.UNCONDITIONAL)
    opened_3 = DataAssetFactory(holder=hospital, grade=3, sharing_condition="",
                                sharing_type=SharingType.UNCONDITIONAL)
    set_fields(opened_3, open_attribute=OpenAttribute.OPEN)
    run_now(RunKind.INVENTORY)
    assert found(FindingRule.SHARING_ABOVE_GRADE) == {(unconditional_4.pk, ""),
                                                      (opened_3.pk, "")}
    assert conditional_5.pk and unconditional_3.pk


def test_only_registered_assets_are_inventoried(hospital):
    draft = DataAssetFactory(holder=hospital, grade=5, stored_in_country=False,
                             status=AssetStatus.DRAFT)
    gone = DataAssetFactory(holder=hospital, grade=5, stored_in_country=False,
                            status=AssetStatus.DEREGISTERED)
    run = run_now(RunKind.INVENTORY)
    assert found(FindingRule.STORED_ABROAD) == set()
    assert run.assets_total == 0 and draft.pk and gone.pk


def test_a_clean_asset_has_no_finding(hospital):
    DataAssetFactory(holder=hospital)
    run = run_now(RunKind.INVENTORY)
    assert run.status == RunStatus.SUCCEEDED and run.assets_total == 1
    assert not Finding.objects.exists()
    assert run.counts == {}


def test_statuses_are_the_ones_a_new_finding_starts_with(hospital):
    DataAssetFactory(holder=hospital, grade=4, stored_in_country=False)
    run = run_now(RunKind.INVENTORY)
    finding = Finding.objects.get()
    assert finding.status == FindingStatus.OPEN
    assert finding.first_run == run == finding.last_run
    assert finding.institution == hospital
    assert finding.region_province_id == "330000"
