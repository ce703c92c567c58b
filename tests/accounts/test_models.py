"""Regions (seeded GB/T 2260 divisions), institutions and memberships."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.choices import RegionLevel, Role
from accounts.models import Institution, Membership, Region

from ..factories import InstitutionFactory, MembershipFactory, UserFactory, credit_code, region

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parents[2] / "accounts" / "data"


def test_every_province_is_seeded_and_points_to_itself():
    with open(DATA / "provinces.csv", encoding="utf-8", newline="") as handle:
        expected = {row["code"].ljust(6, "0"): row["name"] for row in csv.DictReader(handle)}
    provinces = Region.objects.filter(level=RegionLevel.PROVINCE)
    assert {r.code: r.name for r in provinces} == expected
    assert all(r.province_id == r.code and r.parent_id is None for r in provinces)


def test_county_points_up_the_tree():
    county = region("330106")
    assert (county.name, county.level) == ("西湖区", RegionLevel.COUNTY)
    assert county.parent_id == "330100"
    assert county.city_id == "330100"
    assert county.province_id == "330000"
    assert region("3301").parent_id == "330000"


def test_full_name_skips_municipal_placeholders():
    assert region("330106").full_name == "浙江省杭州市西湖区"
    # 北京市 / 市辖区 / 东城区: the placeholder city is left out.
    assert region("110101").full_name == "北京市东城区"
    assert region("3301").full_name == "浙江省杭州市"
    assert region("33").full_name == "浙江省"


def test_valid_institution_passes_full_clean():
    institution = InstitutionFactory.build(region=region("330106"), credit_code=credit_code(77))
    institution.full_clean()


def test_wrong_credit_code_check_is_refused_and_nothing_saved():
    good = credit_code(78)
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    institution = InstitutionFactory.build(region=region("330106"), credit_code=wrong)
    before = Institution.objects.count()
    with pytest.raises(ValidationError) as excinfo:
        institution.full_clean()
    assert list(excinfo.value.error_dict) == ["credit_code"]
    assert excinfo.value.error_dict["credit_code"][0].code == "check_digit"
    assert Institution.objects.count() == before


def test_duplicate_credit_code_has_a_clear_message():
    existing = InstitutionFactory()
    duplicate = InstitutionFactory.build(credit_code=existing.credit_code)
    with pytest.raises(ValidationError) as excinfo:
        duplicate.full_clean()
    assert excinfo.value.error_dict["credit_code"][0].code == "unique"


def test_membership_role_is_unique_per_user_and_institution():
    membership = MembershipFactory(role=Role.STEWARD)
    again = Membership(user=membership.user, institution=membership.institution, role=Role.STEWARD)
    with pytest.raises(ValidationError):
        again.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        again.save()
    # Another role at the same institution is fine.
    MembershipFactory(user=membership.user, institution=membership.institution, role=Role.AUDITOR)
    assert membership.user.memberships.count() == 2


def test_user_str_prefers_full_name():
    assert str(UserFactory.build(username="u1", full_name="李四")) == "李四"
    assert str(UserFactory.build(username="u2", full_name="")) == "u2"
