"""factory_boy factories for the accounts and catalog apps.

Regions are not created: the GB/T 2260 divisions are seeded by a migration, so the
factories look them up by code. Institutions get credit codes with a check character
computed here, independently of ``accounts.credit_code``.
"""

from __future__ import annotations

from datetime import date

import factory
from django.utils import timezone

from accounts.choices import InstitutionType, Role
from accounts.models import Institution, Membership, Region, User
from catalog.choices import (
    AssetStatus,
    CollectionMethod,
    DataCategory,
    DeidentificationState,
    OpenAttribute,
    Purpose,
    SharingType,
    SourceSystem,
    UpdateFrequency,
)
from catalog.models import DataAsset
from rights.choices import PartyKind, Right
from rights.models import RightsAllocation

# GB 32100-2015: 31 characters (no I, O, S, V, Z); weight of position i is 3^i mod 31.
GB32100_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def gb32100_check(body: str) -> str:
    """The check character of a 17-character code body (an implementation of our own)."""
    assert len(body) == 17
    total = 0
    for i, char in enumerate(body):
        total += GB32100_ALPHABET.index(char) * pow(3, i, 31)
    remainder = total % 31
    return GB32100_ALPHABET[0 if remainder == 0 else 31 - remainder]


def credit_code(n: int, *, region_code: str = "330106", kind: str = "12") -> str:
    """A valid credit code: registration kind + division code + a 9-character serial ``n``."""
    serial = ""
    for _ in range(9):
        n, digit = divmod(n, 31)
        serial = GB32100_ALPHABET[digit] + serial
    body = kind + region_code + serial
    return body + gb32100_check(body)


def region(code: str) -> Region:
    """A seeded administrative division; ``33`` and ``3301`` are padded to six digits."""
    return Region.objects.get(code=code.ljust(6, "0"))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"用户{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.django.Password("secret-pass-123")


class SuperUserFactory(UserFactory):
    is_staff = True
    is_superuser = True


class InstitutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Institution

    name = factory.Sequence(lambda n: f"第{n}人民医院")
    type = InstitutionType.TERTIARY_HOSPITAL
    region = factory.LazyFunction(lambda: region("330106"))
    credit_code = factory.Sequence(lambda n: credit_code(1000 + n))

    class Params:
        commission = factory.Trait(
            type=InstitutionType.HEALTH_COMMISSION,
            name=factory.Sequence(lambda n: f"第{n}卫生健康委员会"),
        )


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    institution = factory.SubFactory(InstitutionFactory)
    role = Role.REGISTRAR


class DataAssetFactory(factory.django.DjangoModelFactory):
    """A valid, registered, conditionally shared asset (not in the open catalog)."""

    class Meta:
        model = DataAsset

    code = factory.Sequence(lambda n: f"DA-{n:06d}")
    name = factory.Sequence(lambda n: f"门诊病历数据{n}")
    description = "门诊就诊记录与诊断信息"
    source_system = SourceSystem.EMR
    collection_method = CollectionMethod.SYSTEM_GENERATED
    purposes = factory.LazyFunction(lambda: [Purpose.CLINICAL_CARE])
    storage_location = "院内数据中心"
    record_count = 1000
    update_frequency = UpdateFrequency.DAILY
    last_data_update = factory.LazyFunction(
        lambda: timezone.now().replace(second=37, microsecond=123456)
    )
    holder = factory.SubFactory(InstitutionFactory)
    responsible_person = "张三"
    responsible_phone = "0571-88888888"
    categories = factory.LazyFunction(lambda: [DataCategory.HEALTH_STATUS])
    grade = 3
    sharing_type = SharingType.CONDITIONAL
    sharing_condition = "经审批后共享"
    open_attribute = OpenAttribute.NOT_OPEN
    contains_personal_info = False
    deidentification = DeidentificationState.NOT_APPLICABLE
    status = AssetStatus.REGISTERED

    class Params:
        # The open catalog: registered, unconditionally shared, open, low grade.
        open = factory.Trait(
            sharing_type=SharingType.UNCONDITIONAL,
            sharing_condition="",
            open_attribute=OpenAttribute.OPEN,
            grade=1,
            categories=[DataCategory.HEALTH_RESOURCES],
        )


class AllocationFactory(factory.django.DjangoModelFactory):
    """The holding right of the asset's holder (saved without the rules' check: a test may
    build a rule-breaking row on purpose, as an import could)."""

    class Meta:
        model = RightsAllocation

    asset = factory.SubFactory(DataAssetFactory)
    party_kind = PartyKind.INSTITUTION
    party_institution = factory.LazyAttribute(lambda o: o.asset.holder)
    right = Right.HOLD
    legal_basis = "《数据二十条》第三条；《医疗机构管理条例》"
    valid_from = date(2025, 1, 1)

    class Params:
        # The patients' personal right.
        subjects = factory.Trait(
            party_kind=PartyKind.DATA_SUBJECTS, party_institution=None,
            party_description="本院就诊患者", right=Right.ACCESS,
            legal_basis="《中华人民共和国个人信息保护法》第四十五条",
        )
