"""People and assets around one hospital asset in 浙江省 (province 33)."""

from __future__ import annotations

from datetime import date

import pytest

from accounts.choices import InstitutionType, Role

from ..factories import DataAssetFactory, InstitutionFactory, MembershipFactory, UserFactory, region


@pytest.fixture
def asset(hospital):
    return DataAssetFactory(holder=hospital, name="住院病案首页", grade=4)


@pytest.fixture
def cdc(db):
    """The provincial CDC: a public-health agency, not the asset's holder."""
    return InstitutionFactory(name="浙江省疾病预防控制中心", type=InstitutionType.CDC,
                              region=region("33"))


@pytest.fixture
def far_steward(db):
    """A steward of 广东省 (province 44): the Zhejiang asset is outside their jurisdiction."""
    commission = InstitutionFactory(commission=True, name="广东省卫生健康委员会",
                                    region=region("44"))
    return MembershipFactory(user=UserFactory(username="steward44"), institution=commission,
                             role=Role.STEWARD).user


def hold_data(asset, **overrides) -> dict:
    """Field values of a sound holding right of the asset's holder."""
    return {
        "party_kind": "institution", "party_institution": asset.holder, "party_description": "",
        "right": "hold", "legal_basis": "《数据二十条》第三条；《医疗机构管理条例》",
        "purpose": "", "scope": "", "valid_from": date(2025, 1, 1), "valid_until": None,
        "status": "active", **overrides,
    }
