"""Fixtures for the API tests: an API client speaking English, a world of assets across
two provinces with a user per role (the catalog's scoping world, plus an explicit grant)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from rest_framework.test import APIClient

from access.models import AssetUserGrant

from ..catalog.test_scoping import world  # noqa: F401  (the fixture, reused)


@pytest.fixture(autouse=True)
def _fresh_throttle():
    """The throttles count in the cache: each test starts with none used."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api():
    return APIClient(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def granted_world(world):  # noqa: F811
    """The scoping world, where the public-health officer holds a live view grant on one
    asset of another province (and nothing else but the open catalog)."""
    assets, users = world
    AssetUserGrant.objects.create(
        user=users["officer"], content_object=assets["far_cond"],
        permission=Permission.objects.get(codename="view_dataasset"),
        reason="传染病监测研究", granted_by=users["superuser"],
    )
    return assets, users


def as_user(client: APIClient, user) -> APIClient:
    if user.is_authenticated:
        client.force_authenticate(user)
    return client


def walk(client: APIClient, url: str, params=None) -> list[dict]:
    """Every row of a cursor-paginated list, following the ``next`` links."""
    rows, response = [], client.get(url, params or {})
    while True:
        assert response.status_code == 200, response.content
        rows += response.json()["results"]
        if not response.json()["next"]:
            return rows
        response = client.get(response.json()["next"])


def keys(objects: dict, ids) -> set[str]:
    """The fixture keys of the objects with these ids."""
    by_pk = {found.pk: key for key, found in objects.items()}
    return {by_pk[pk] for pk in ids}
