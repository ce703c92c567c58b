"""Cached report figures: served again without counting, never across scopes, and counted
afresh once an asset, an allocation or a run changes what they count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.choices import RunKind, RunStatus
from inventory.models import Run
from reports.cache import report_figures

from ..factories import AllocationFactory, DataAssetFactory, region

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def cache_on(settings):
    from django.core.cache import cache

    settings.REPORT_CACHE_SECONDS = 600
    cache.clear()


def counted(user, filters=None):
    with CaptureQueriesContext(connection) as queries:
        report = report_figures(user, filters or {})
    return report, len(queries)


def test_second_request_is_served_from_the_cache(world):
    user = world.users["city_steward"]
    first, first_queries = counted(user)
    again, again_queries = counted(user)
    assert again.total == first.total and again.without_holder == first.without_holder
    assert again_queries < first_queries and again_queries <= 4


def test_scopes_and_filters_do_not_share_entries(world):
    city, _n = counted(world.users["city_steward"])
    county, _n = counted(world.users["xihu_steward"])
    assert county.total < city.total
    graded, _n = counted(world.users["city_steward"], {"grade": 1})
    assert graded.total < city.total


def test_a_new_asset_is_counted(world, django_capture_on_commit_callbacks):
    user = world.users["xihu_steward"]
    before, _n = counted(user)
    with django_capture_on_commit_callbacks(execute=True):
        DataAssetFactory(holder=world.institutions["xihu_a"])
    after, _n = counted(user)
    assert after.total == before.total + 1


def test_an_allocation_change_is_counted(world):
    user = world.users["xihu_steward"]
    before, _n = counted(user)
    unallocated = next(
        a for a in world.assets
        if a.status == "registered" and a.pk not in world.allocated
        and a.holder.region_id == "330106"
    )
    AllocationFactory(asset=unallocated)
    after, _n = counted(user)
    assert after.without_holder == before.without_holder - 1


def test_a_finished_run_is_counted(world):
    user = world.users["province_steward"]
    before, _n = counted(user)
    Run.objects.create(kind=RunKind.INVENTORY, scope=region("33"), status=RunStatus.SUCCEEDED,
                       finished_at=timezone.now() + timedelta(seconds=1), counts={})
    after, _n = counted(user)
    assert len(after.runs) == len(before.runs) + 1
