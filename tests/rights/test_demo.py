"""The demo world's rights: every registered asset held by its holder, the ordinary
allocations within the rules, and exactly the few planted problems for the review to find."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from catalog import demo
from catalog.choices import AssetStatus
from catalog.models import DataAsset
from rights.models import RightsAllocation

pytestmark = pytest.mark.django_db

ASSETS = 800


def seed(method: str, *, reset: bool = False) -> None:
    call_command("seed_demo", assets=ASSETS, method=method, reset=reset, stdout=StringIO(),
                 verbosity=0)


def world() -> list[tuple]:
    return sorted(RightsAllocation.objects.values_list(
        "asset__code", "right", "party_kind", "party_institution__credit_code", "valid_from",
        "valid_until", "purpose"))


def rule_breakers() -> dict[str, int]:
    """How many allocations break each kind of rule (by the field their message is on)."""
    found: dict[str, int] = {}
    for allocation in RightsAllocation.objects.select_related("asset", "party_institution"):
        try:
            allocation.full_clean()
        except ValidationError as error:
            fields = ",".join(sorted(error.message_dict))
            key = f"{allocation.party_kind}:{allocation.right}:{fields}"
            found[key] = found.get(key, 0) + 1
    return found


@pytest.mark.parametrize("method", ["orm", pytest.param("copy", marks=pytest.mark.postgres)])
def test_the_demo_rights(method):
    seed(method)
    registered = DataAsset.objects.filter(status=AssetStatus.REGISTERED)
    holds = RightsAllocation.objects.filter(right="hold")
    assert holds.count() == registered.count() - 3  # the planted "no holder" assets
    assert not holds.exclude(party_institution=F("asset__holder")).exists()
    assert RightsAllocation.objects.filter(party_kind="data_subjects", right="know").exists()
    assert RightsAllocation.objects.filter(
        party_institution__type="cdc", valid_until__isnull=False).count() > 4

    problems = rule_breakers()
    grade5 = int(DataAsset.objects.filter(grade=5, status=AssetStatus.REGISTERED,
                                          region_province="330000").exists())
    assert problems == {
        "data_subjects:process_use:right": 1,
        "institution:process_use:valid_until": 2,  # a CDC without an end date
        **({"institution:product_operate:right": 1} if grade5 else {}),
    }
    today = timezone.localdate()
    active = RightsAllocation.objects.filter(status="active")
    assert active.filter(valid_until__lt=today).count() == len(demo.EXPIRED_DAYS_AGO)
    assert active.filter(valid_until__gte=today,
                         valid_until__lte=today + timezone.timedelta(days=30)).count() == len(
        demo.EXPIRING_IN_DAYS)

    records = RightsAllocation.history.all()
    assert records.count() == RightsAllocation.objects.count()
    assert set(records.values_list("history_type", "history_user__username",
                                   "history_change_reason")) == {("+", "admin", demo.DEMO_REASON)}


def test_the_demo_rights_are_the_same_every_time():
    seed("orm")
    first = world()
    seed("orm", reset=True)
    assert world() == first and first
