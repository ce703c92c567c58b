"""The ledger row: validation, constraints, derived fields, the ``has`` lookup."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from catalog.choices import (
    EU_FREQUENCY_PREFIX,
    DataCategory,
    DeidentificationState,
    OpenAttribute,
    SharingType,
    UpdateFrequency,
)
from catalog.models import DataAsset

from ..factories import DataAssetFactory, InstitutionFactory, region

pytestmark = pytest.mark.django_db


def snapshot(asset: DataAsset) -> tuple[dict, int]:
    """The stored row and its number of history entries."""
    row = DataAsset.objects.filter(pk=asset.pk).values().get()
    return row, asset.history.count()


def test_factory_asset_is_valid():
    asset = DataAssetFactory()
    asset.full_clean()
    assert asset.version == 1


def test_region_copies_follow_the_holder_on_save():
    asset = DataAssetFactory(holder=InstitutionFactory(region=region("330203")))
    asset.refresh_from_db()
    assert (asset.region_id, asset.region_city_id, asset.region_province_id) == (
        "330203", "330200", "330000",
    )


def test_holder_without_region_leaves_copies_empty():
    asset = DataAssetFactory(holder=InstitutionFactory(region=None, commission=True))
    asset.refresh_from_db()
    assert (asset.region_id, asset.region_city_id, asset.region_province_id) == (None, None, None)


def test_version_increases_on_each_save():
    asset = DataAssetFactory()
    asset.name = "新名称"
    asset.save()
    asset.save()
    assert DataAsset.objects.get(pk=asset.pk).version == 3


@pytest.mark.parametrize("field", ["record_count", "storage_bytes", "individual_count"])
def test_negative_volume_is_refused_by_clean(field):
    asset = DataAssetFactory()
    before = snapshot(asset)
    setattr(asset, field, -1)
    with pytest.raises(ValidationError) as excinfo:
        asset.full_clean()
    assert field in excinfo.value.error_dict
    assert snapshot(asset) == before


@pytest.mark.parametrize("field", ["record_count", "storage_bytes", "individual_count"])
def test_negative_volume_is_refused_by_the_database(field):
    asset = DataAssetFactory()
    before = snapshot(asset)
    table = DataAsset._meta.db_table
    column = DataAsset._meta.get_field(field).column
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [-5, asset.pk])  # noqa: S608
    assert snapshot(asset) == before


def test_negative_volume_on_save_without_clean_is_refused():
    asset = DataAssetFactory()
    before = snapshot(asset)
    asset.record_count = -1
    with pytest.raises(IntegrityError), transaction.atomic():
        asset.save()
    assert snapshot(asset) == before


def test_grade_out_of_range_is_refused_by_the_database():
    asset = DataAssetFactory()
    before = snapshot(asset)
    with pytest.raises(IntegrityError), transaction.atomic():
        DataAsset._base_manager.filter(pk=asset.pk).update(grade=6)
    assert snapshot(asset) == before


def test_unknown_category_is_refused():
    asset = DataAssetFactory()
    before = snapshot(asset)
    asset.categories = ["foo", DataCategory.HEALTH_STATUS]
    with pytest.raises(ValidationError) as excinfo:
        asset.full_clean()
    assert "categories" in excinfo.value.error_dict
    assert "foo" in excinfo.value.error_dict["categories"][0].messages[0]
    assert snapshot(asset) == before


def test_empty_categories_are_refused():
    asset = DataAssetFactory.build(holder=InstitutionFactory(), categories=[])
    with pytest.raises(ValidationError) as excinfo:
        asset.full_clean()
    assert "categories" in excinfo.value.error_dict


def test_unknown_sharing_type_is_refused():
    asset = DataAssetFactory()
    before = snapshot(asset)
    asset.sharing_type = "bogus"
    with pytest.raises(ValidationError) as excinfo:
        asset.full_clean()
    assert "sharing_type" in excinfo.value.error_dict
    assert snapshot(asset) == before


def test_purposes_must_be_a_list():
    asset = DataAssetFactory.build(holder=InstitutionFactory(), purposes="research")
    with pytest.raises(ValidationError) as excinfo:
        asset.full_clean()
    assert "purposes" in excinfo.value.error_dict


@pytest.mark.parametrize("code", ["da-1", "A", "-ABCD", "ABC DEF", "X" * 41])
def test_bad_asset_codes(code):
    asset = DataAssetFactory.build(holder=InstitutionFactory(), code=code)
    with pytest.raises(ValidationError) as excinfo:
        asset.full_clean()
    assert "code" in excinfo.value.error_dict


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"sharing_type": SharingType.CONDITIONAL, "sharing_condition": " "}, "sharing_condition"),
        ({"sharing_type": SharingType.NOT_SHARED, "sharing_condition": ""}, "sharing_condition"),
        ({"open_attribute": OpenAttribute.OPEN, "grade": 3}, "open_attribute"),
        ({"contains_personal_info": True}, "deidentification"),
        (
            {"contains_personal_info": False,
             "deidentification": DeidentificationState.PSEUDONYMISED},
            "deidentification",
        ),
        (
            {"temporal_start": datetime.date(2024, 1, 2),
             "temporal_end": datetime.date(2024, 1, 1)},
            "temporal_end",
        ),
    ],
)
def test_business_rules(changes, field):
    asset = DataAssetFactory()
    for name, value in changes.items():
        setattr(asset, name, value)
    with pytest.raises(ValidationError) as excinfo:
        asset.full_clean()
    assert field in excinfo.value.error_dict


def test_open_grade_two_and_personal_info_with_deidentification_are_fine():
    asset = DataAssetFactory(
        open=True, grade=2, contains_personal_info=True,
        deidentification=DeidentificationState.ANONYMISED,
    )
    asset.full_clean()


def test_temporal_order_is_a_database_constraint():
    asset = DataAssetFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        DataAsset._base_manager.filter(pk=asset.pk).update(
            temporal_start=datetime.date(2024, 2, 1), temporal_end=datetime.date(2024, 1, 1)
        )


def test_choice_lists_are_stored_sorted_without_repeats():
    asset = DataAssetFactory(
        categories=[DataCategory.PUBLIC_HEALTH, DataCategory.HEALTH_STATUS,
                    DataCategory.PUBLIC_HEALTH],
    )
    stored = DataAsset.objects.values_list("categories", flat=True).get(pk=asset.pk)
    assert stored == sorted({"public_health", "health_status"})


def test_has_lookup_finds_lists_containing_the_code():
    both = DataAssetFactory(categories=[DataCategory.PUBLIC_HEALTH, DataCategory.HEALTH_STATUS])
    one = DataAssetFactory(categories=[DataCategory.PUBLIC_HEALTH])
    other = DataAssetFactory(categories=[DataCategory.MEDICAL_PAYMENT])
    # "health" is a substring of codes, never a code: it must match nothing.
    assert set(DataAsset.objects.filter(categories__has="public_health")) == {both, one}
    assert set(DataAsset.objects.filter(categories__has="health_status")) == {both}
    assert set(DataAsset.objects.filter(categories__has="medical_payment")) == {other}
    assert not DataAsset.objects.filter(categories__has="health").exists()


def test_eu_frequency_uri():
    asset = DataAssetFactory.build(update_frequency=UpdateFrequency.SEMIANNUAL)
    assert asset.eu_frequency_uri == EU_FREQUENCY_PREFIX + "ANNUAL_2"
    asset.update_frequency = UpdateFrequency.REALTIME
    assert asset.eu_frequency_uri.endswith("/UPDATE_CONT")


def test_duplicate_code_has_a_clear_error():
    existing = DataAssetFactory()
    duplicate = DataAssetFactory.build(holder=existing.holder, code=existing.code)
    with pytest.raises(ValidationError) as excinfo:
        duplicate.full_clean()
    assert excinfo.value.error_dict["code"][0].code == "unique"
