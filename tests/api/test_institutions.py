"""The institution endpoints: those in the user's reach, and the holders of the assets the
user may see; nothing else (a hidden institution is 404)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Institution
from catalog.models import DataAsset

from .conftest import as_user
from .test_assets import API_MATRIX, walk

pytestmark = pytest.mark.django_db

LIST = reverse("api:institution-list")


@pytest.mark.parametrize("who", ["anonymous", "registrar_h", "steward3301", "steward44",
                                 "officer", "superuser", "national_steward"])
def test_institutions_follow_the_scoping_rule(granted_world, api, who):
    assets, users = granted_world
    user = users[who]
    as_user(api, user)
    listed = {row["id"] for row in walk(api, LIST)}
    # Independently: holders of the visible assets, plus the user's institutions and the
    # institutions in a commission's region.
    visible = API_MATRIX[who][0]
    expected = {assets[key].holder_id for key in visible}
    if who == "superuser" or who == "national_steward":
        expected = set(Institution.objects.values_list("pk", flat=True))
    elif who == "registrar_h":
        expected.add(assets["h_cond"].holder_id)
    elif who == "steward3301":
        expected |= set(Institution.objects.filter(region__city="330100").values_list(
            "pk", flat=True))
    elif who == "steward44":
        expected |= set(Institution.objects.filter(region__province="440000").values_list(
            "pk", flat=True))
    assert listed == expected
    for institution in Institution.objects.all():
        response = api.get(reverse("api:institution-detail", args=[institution.pk]))
        assert response.status_code == (200 if institution.pk in expected else 404)


def test_anonymous_sees_the_holders_of_the_open_catalog_only(granted_world, api):
    assets, _users = granted_world
    listed = {row["id"] for row in walk(api, LIST)}
    open_holders = set(DataAsset.objects.visible_to(None).values_list("holder", flat=True))
    assert listed == open_holders == {assets["open33"].holder_id, assets["open44"].holder_id}
    row = api.get(reverse("api:institution-detail", args=[assets["open33"].holder_id])).json()
    assert set(row) >= {"id", "name", "credit_code", "type", "type_label", "region"}


def test_institutions_are_read_only(granted_world, api):
    _assets, users = granted_world
    as_user(api, users["superuser"])
    assert api.post(LIST, {"name": "x"}, format="json").status_code == 405
