"""A small province for the reports: commissions at three levels, hospitals in three
counties of two cities, one hospital in another province, and assets of every kind."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import cycle

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from access.models import AssetUserGrant
from accounts.choices import InstitutionType, Role
from catalog.choices import AssetStatus, DataCategory, SecurityClass, SharingType, UpdateFrequency
from inventory.choices import FindingRule, FindingStatus, RunKind, RunStatus, Severity
from inventory.models import Finding, Run

from ..factories import (
    AllocationFactory,
    DataAssetFactory,
    InstitutionFactory,
    MembershipFactory,
    UserFactory,
    region,
)

TZ = timezone.get_fixed_timezone(8 * 60)


@dataclass
class World:
    users: dict = field(default_factory=dict)
    institutions: dict = field(default_factory=dict)
    assets: list = field(default_factory=list)
    findings: list = field(default_factory=list)
    allocated: set = field(default_factory=set)  # ids of assets with a live holding right
    expiring: list = field(default_factory=list)  # assets with a grant ending within 30 days
    runs: list = field(default_factory=list)


def person(name: str, institution, role: str):
    return MembershipFactory(user=UserFactory(username=name), institution=institution,
                             role=role).user


def make_assets(holder, n: int, start: int = 0) -> list:
    """``n`` assets of ``holder`` whose attributes vary with their position."""
    grades = cycle([1, 2, 3, 4, 5, 3, 2])
    classes = cycle(list(SecurityClass.values))
    sharing = cycle([SharingType.CONDITIONAL, SharingType.NOT_SHARED, SharingType.CONDITIONAL])
    frequency = cycle([UpdateFrequency.DAILY, UpdateFrequency.MONTHLY])
    categories = cycle([
        [DataCategory.HEALTH_STATUS], [DataCategory.HEALTH_RESOURCES],
        [DataCategory.HEALTH_STATUS, DataCategory.HEALTH_RESOURCES],
    ])
    statuses = cycle([AssetStatus.REGISTERED, AssetStatus.REGISTERED, AssetStatus.DRAFT])
    months = cycle([date(2025, 1, 15), date(2025, 3, 2), date(2025, 3, 31)])
    assets = []
    for _i in range(start, start + n):
        status = next(statuses)
        month = next(months)
        assets.append(DataAssetFactory(
            holder=holder, grade=next(grades), security_class=next(classes),
            sharing_type=next(sharing), sharing_condition="依据《数据安全法》",
            update_frequency=next(frequency), categories=next(categories), status=status,
            registered_at=datetime(month.year, month.month, month.day, 10, tzinfo=TZ)
            if status == AssetStatus.REGISTERED else None,
        ))
    return assets


@pytest.fixture
def world(db) -> World:
    w = World()
    province = InstitutionFactory(commission=True, region=region("33"))
    hangzhou = InstitutionFactory(commission=True, region=region("330100"))
    xihu = InstitutionFactory(commission=True, region=region("330106"))
    shangcheng = InstitutionFactory(commission=True, region=region("330102"))
    haishu = InstitutionFactory(commission=True, region=region("330203"))
    guangdong = InstitutionFactory(commission=True, region=region("44"))
    w.users = {
        "province_steward": person("prov", province, Role.STEWARD),
        "staff": person("staff", province, Role.COMMISSION_STAFF),
        "auditor": person("auditor", province, Role.AUDITOR),
        "city_steward": person("city", hangzhou, Role.STEWARD),
        "xihu_steward": person("xihu", xihu, Role.STEWARD),
        "shangcheng_steward": person("shangcheng", shangcheng, Role.STEWARD),
        "haishu_steward": person("haishu", haishu, Role.STEWARD),
        "guangdong_steward": person("gd", guangdong, Role.STEWARD),
    }
    w.institutions = {
        "xihu_a": InstitutionFactory(region=region("330106"),
                                     type=InstitutionType.TERTIARY_HOSPITAL),
        "xihu_b": InstitutionFactory(region=region("330106"),
                                     type=InstitutionType.COMMUNITY_HEALTH_CENTRE),
        "shangcheng": InstitutionFactory(region=region("330102"),
                                         type=InstitutionType.SECONDARY_HOSPITAL),
        "haishu": InstitutionFactory(region=region("330203"), type=InstitutionType.CDC),
        "far": InstitutionFactory(region=region("440106")),
        "province": province,
    }
    w.users["registrar"] = person("registrar", w.institutions["xihu_a"], Role.REGISTRAR)
    sizes = {"xihu_a": 7, "xihu_b": 4, "shangcheng": 5, "haishu": 3, "far": 4, "province": 2}
    for key, n in sizes.items():
        w.assets += make_assets(w.institutions[key], n)

    registered = [a for a in w.assets if a.status == AssetStatus.REGISTERED]
    # A live holding right on every other registered asset; an ended one on one more.
    for asset in registered[::2]:
        AllocationFactory(asset=asset)
        w.allocated.add(asset.pk)
    AllocationFactory(asset=registered[1], valid_until=date(2025, 6, 30))
    # Explicit permissions: two ending within 30 days, one later, one already ended.
    view = Permission.objects.get(codename="view_dataasset")
    grantee = UserFactory(username="grantee")
    now = timezone.now()
    for asset, days in ((w.assets[0], 5), (w.assets[8], 20), (w.assets[12], 90),
                        (w.assets[3], -1), (w.assets[-1], 3)):
        AssetUserGrant.objects.create(user=grantee, permission=view, content_object=asset,
                                      reason="t", expires_at=now + timedelta(days=days))
        if 0 < days <= 30:
            w.expiring.append(asset)

    # Two finished runs of the province, one of 广东, one still running.
    for kind, scope, counts in (
        (RunKind.INVENTORY, region("33"), {"stale": {"found": 4, "new": 4, "resolved": 0}}),
        (RunKind.INVENTORY, region("33"), {"stale": {"found": 3, "new": 0, "resolved": 1},
                                           "missing_fields": {"found": 1, "new": 1}}),
        (RunKind.INVENTORY, region("44"), {"stale": {"found": 9, "new": 9, "resolved": 0}}),
    ):
        w.runs.append(Run.objects.create(kind=kind, scope=scope, status=RunStatus.SUCCEEDED,
                                         finished_at=now, counts=counts))
    Run.objects.create(kind=RunKind.RIGHTS_REVIEW, scope=region("33"), status=RunStatus.RUNNING)

    run = w.runs[1]
    plan = [  # (asset index, rule, status)
        (0, FindingRule.STALE, FindingStatus.OPEN), (1, FindingRule.STALE, FindingStatus.OPEN),
        (7, FindingRule.STALE, FindingStatus.ANSWERED), (8, FindingRule.STALE, FindingStatus.OPEN),
        (9, FindingRule.STALE, FindingStatus.RESOLVED),
        (11, FindingRule.STALE, FindingStatus.CLOSED),
        (2, FindingRule.MISSING_FIELDS, FindingStatus.OPEN),
        (12, FindingRule.STORED_ABROAD, FindingStatus.OPEN),
        (len(w.assets) - 3, FindingRule.STALE, FindingStatus.OPEN),  # 广东
    ]
    severity = {FindingRule.STALE: Severity.MEDIUM, FindingRule.MISSING_FIELDS: Severity.MEDIUM,
                FindingRule.STORED_ABROAD: Severity.HIGH}
    for index, rule, status in plan:
        asset = w.assets[index]
        w.findings.append(Finding.objects.create(
            rule=rule, severity=severity[rule], asset=asset, institution_id=asset.holder_id,
            region_id=asset.region_id, region_province_id=asset.region_province_id,
            region_city_id=asset.region_city_id, status=status, first_run=run, last_run=run,
            first_seen_at=now, last_seen_at=now,
        ))
    return w
