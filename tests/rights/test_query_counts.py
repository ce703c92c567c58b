"""No N+1: the rights page and the asset page's summary make as many queries for ten
allocations, each with its history, as for one."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rights import services

from ..factories import InstitutionFactory
from .conftest import hold_data

pytestmark = pytest.mark.django_db


def allocate(steward, asset, count: int) -> None:
    """``count`` allocations, each changed once, to institutions of their own."""
    for n in range(count):
        party = InstitutionFactory(name=f"合作研究机构{n}")
        allocation = services.allocate(
            asset, hold_data(asset, right="process_use", party_institution=party), steward,
            reason=f"合作项目{n}")
        services.change_allocation(allocation, {"scope": f"范围{n}"}, steward, reason="补充")


def count_queries(client, url: str) -> int:
    client.get(url)  # warm up: content types, session
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("who", ["steward", "registrar"])
def test_the_rights_page_does_not_grow_with_its_allocations(request, client, who, hospital):
    from ..factories import DataAssetFactory

    steward = request.getfixturevalue("steward")
    user = request.getfixturevalue(who)
    few, many = DataAssetFactory(holder=hospital), DataAssetFactory(holder=hospital)
    allocate(steward, few, 1)
    allocate(steward, many, 10)
    client.force_login(user)
    counts = [count_queries(client, reverse("rights:asset_rights", args=[asset.pk]))
              for asset in (few, many)]
    response = client.get(reverse("rights:asset_rights", args=[many.pk]))
    assert len(response.context["current"]) == 10
    assert all(len(a.changes) == 2 for a in response.context["current"])
    assert counts[0] == counts[1], f"the rights page's queries grow: {counts}"


def test_the_asset_page_summary_is_one_query(client, steward, hospital):
    from ..factories import DataAssetFactory

    few, many = DataAssetFactory(holder=hospital), DataAssetFactory(holder=hospital)
    allocate(steward, few, 1)
    allocate(steward, many, 10)
    client.force_login(steward)
    counts = [count_queries(client, asset.get_absolute_url()) for asset in (few, many)]
    assert counts[0] == counts[1], f"the asset page's queries grow: {counts}"
    without = DataAssetFactory(holder=hospital)
    client.force_login(steward)
    with CaptureQueriesContext(connection) as queries:
        client.get(without.get_absolute_url())
    summary = [q["sql"] for q in queries if '"rights_rightsallocation"' in q["sql"]]
    assert len(summary) == 1
