"""People and ledger data for the registry's tests."""

from __future__ import annotations

import pytest

from accounts.choices import Role
from catalog.choices import (
    CollectionMethod,
    DataCategory,
    DataFormat,
    DeidentificationState,
    OpenAttribute,
    Purpose,
    SecurityClass,
    SharingType,
    SourceSystem,
    UpdateFrequency,
)

from ..factories import InstitutionFactory, MembershipFactory, UserFactory, region


@pytest.fixture
def county_commission(db):
    return InstitutionFactory(commission=True, name="西湖区卫生健康局", region=region("330106"))


@pytest.fixture
def other_county_steward(db):
    commission = InstitutionFactory(commission=True, name="上城区卫生健康局",
                                    region=region("330102"))
    return MembershipFactory(user=UserFactory(username="steward330102"),
                             institution=commission, role=Role.STEWARD).user


@pytest.fixture
def steward_registrar(hospital, province_commission):
    """A steward of the province who is also a registrar at the hospital."""
    user = UserFactory(username="both")
    MembershipFactory(user=user, institution=province_commission, role=Role.STEWARD)
    MembershipFactory(user=user, institution=hospital, role=Role.REGISTRAR)
    return user


def ledger_data(**overrides) -> dict:
    """Valid form data for a new asset, as the registration form posts it."""
    data = {
        "code": "REG-0001",
        "name": "住院病案首页数据",
        "name_en": "",
        "description": "住院病案首页",
        "catalog_class": "",
        "data_format": DataFormat.STRUCTURED,
        "source_system": SourceSystem.EMR,
        "collection_method": CollectionMethod.SYSTEM_GENERATED,
        "purposes": [Purpose.CLINICAL_CARE],
        "storage_location": "院内数据中心",
        "stored_in_country": "on",
        "record_count": "120000",
        "storage_bytes": "",
        "individual_count": "",
        "update_frequency": UpdateFrequency.DAILY,
        "last_data_update": "",
        "responsible_person": "张三",
        "responsible_phone": "0571-88888888",
        "responsible_email": "",
        "categories": [DataCategory.HEALTH_STATUS],
        "grade": "3",
        "security_class": SecurityClass.GENERAL,
        "sharing_type": SharingType.CONDITIONAL,
        "sharing_condition": "经审批后共享",
        "open_attribute": OpenAttribute.NOT_OPEN,
        "contains_personal_info": "",
        "deidentification": DeidentificationState.NOT_APPLICABLE,
        "temporal_start": "",
        "temporal_end": "",
        "spatial_coverage": "",
    }
    data.update(overrides)
    return data
