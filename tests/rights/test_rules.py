"""The allocation rules, each broken and kept: through ``allocation_errors`` and through the
model's ``clean()``, which puts each message on the field it concerns."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from rights.choices import PERSONAL_RIGHTS, RESOURCE_RIGHTS, PartyKind, Right
from rights.models import RightsAllocation
from rights.rules import allocation_errors

from ..factories import DataAssetFactory, InstitutionFactory

pytestmark = pytest.mark.django_db

START, END = date(2026, 1, 1), date(2026, 12, 31)


def errors(asset=None, **kwargs) -> dict:
    arguments = {"party_kind": PartyKind.INSTITUTION, "right": Right.PROCESS_USE,
                 "party_institution": asset.holder if asset else None, "asset": asset,
                 "purpose": "", "valid_from": START, "valid_until": None, **kwargs}
    return allocation_errors(**arguments)


# --- Who may hold which kind of right ---------------------------------------------------------


@pytest.mark.parametrize("right", sorted(RESOURCE_RIGHTS))
def test_data_subjects_get_no_resource_right(asset, right):
    found = errors(asset, party_kind=PartyKind.DATA_SUBJECTS, party_institution=None,
                   right=right)
    assert list(found) == ["right"]
    assert "not resource rights" in str(found["right"][0])


@pytest.mark.parametrize("right", sorted(PERSONAL_RIGHTS))
def test_data_subjects_hold_their_personal_rights(asset, right):
    assert errors(asset, party_kind=PartyKind.DATA_SUBJECTS, party_institution=None,
                  right=right) == {}


@pytest.mark.parametrize("right", sorted(PERSONAL_RIGHTS))
def test_institutions_get_no_personal_right(asset, right):
    found = errors(asset, right=right)
    assert list(found) == ["right"]
    assert "belong to the data subjects" in str(found["right"][0])


@pytest.mark.parametrize("right", [Right.PROCESS_USE, Right.PRODUCT_OPERATE])
def test_institutions_take_resource_rights(asset, right):
    other = InstitutionFactory(name="杭州健康云数据科技有限公司")
    assert errors(asset, right=right, party_institution=other) == {}


# --- Holding ----------------------------------------------------------------------------------


def test_the_holding_right_goes_to_the_holder_only(asset):
    other = InstitutionFactory()
    found = errors(asset, right=Right.HOLD, party_institution=other)
    assert list(found) == ["party_institution"]
    assert "holding institution named in the ledger" in str(found["party_institution"][0])


def test_the_holder_holds(asset):
    assert errors(asset, right=Right.HOLD) == {}


# --- Grade 5 ----------------------------------------------------------------------------------


def test_grade_5_data_is_not_operated_as_a_product(hospital):
    asset = DataAssetFactory(holder=hospital, grade=5)
    found = errors(asset, right=Right.PRODUCT_OPERATE)
    assert list(found) == ["right"]
    assert "grade 5" in str(found["right"][0])


@pytest.mark.parametrize("grade", [1, 4])
def test_lower_grades_may_be_operated(hospital, grade):
    asset = DataAssetFactory(holder=hospital, grade=grade)
    assert errors(asset, right=Right.PRODUCT_OPERATE) == {}


def test_grade_5_may_still_be_held_and_used(hospital):
    asset = DataAssetFactory(holder=hospital, grade=5)
    assert errors(asset, right=Right.HOLD) == errors(asset, right=Right.PROCESS_USE) == {}


# --- Public-health agencies -------------------------------------------------------------------


def test_a_public_health_agency_needs_a_purpose_and_an_end(asset, cdc):
    found = errors(asset, party_institution=cdc)
    assert set(found) == {"purpose", "valid_until"}
    assert "public-interest purpose" in str(found["purpose"][0])
    assert "end date" in str(found["valid_until"][0])


def test_a_public_health_agency_with_purpose_and_end_may_use(asset, cdc):
    assert errors(asset, party_institution=cdc, purpose="传染病监测", valid_until=END) == {}


def test_a_blank_purpose_is_no_purpose(asset, cdc):
    assert list(errors(asset, party_institution=cdc, purpose="   ", valid_until=END)) == [
        "purpose"]


def test_a_public_health_agency_does_not_operate_anothers_data(asset, cdc):
    found = errors(asset, party_institution=cdc, right=Right.PRODUCT_OPERATE,
                   purpose="传染病监测", valid_until=END)
    assert list(found) == ["right"]
    assert "product operation is not one of them" in str(found["right"][0])


def test_a_public_health_agency_holding_its_own_data_is_an_ordinary_holder(cdc):
    own = DataAssetFactory(holder=cdc, grade=3)
    assert errors(own, party_institution=cdc, right=Right.PRODUCT_OPERATE) == {}
    assert errors(own, party_institution=cdc, right=Right.HOLD) == {}


# --- The period -------------------------------------------------------------------------------


def test_an_allocation_ends_after_it_starts(asset):
    found = errors(asset, valid_from=END, valid_until=START)
    assert list(found) == ["valid_until"]
    assert "start before it ends" in str(found["valid_until"][0])


@pytest.mark.parametrize("until", [None, START, END])
def test_a_sound_period(asset, until):
    assert errors(asset, valid_until=until) == {}


def test_the_period_is_checked_without_an_asset():
    assert list(errors(None, valid_from=END, valid_until=START)) == ["valid_until"]


# --- The model's clean(): every message on its field ---------------------------------------


def clean(**fields) -> dict:
    try:
        RightsAllocation(**fields).full_clean()
    except ValidationError as error:
        return error.message_dict
    return {}


def test_clean_names_the_fields_of_a_broken_allocation(asset, cdc):
    found = clean(asset=asset, party_kind=PartyKind.INSTITUTION, party_institution=cdc,
                  right=Right.PRODUCT_OPERATE, legal_basis="x", valid_from=END,
                  valid_until=START)
    assert set(found) == {"right", "purpose", "valid_until"}
    assert len(found["valid_until"]) == 1  # the rule's message, not the constraint's too


def test_clean_wants_an_institution_or_data_subjects_described(asset):
    assert set(clean(asset=asset, party_kind=PartyKind.INSTITUTION, right=Right.PROCESS_USE,
                     legal_basis="x", valid_from=START)) == {"party_institution"}
    found = clean(asset=asset, party_kind=PartyKind.DATA_SUBJECTS,
                  party_institution=asset.holder, right=Right.ACCESS, legal_basis="x",
                  valid_from=START)
    assert set(found) == {"party_institution", "party_description"}


def test_clean_accepts_a_sound_allocation(asset):
    assert clean(asset=asset, party_kind=PartyKind.DATA_SUBJECTS,
                 party_description="本院就诊患者", right=Right.COPY, legal_basis="个保法第四十五条",
                 valid_from=START) == {}
