"""The administration's list of allocations: read-only, scoped like the pages."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from ..factories import AllocationFactory, DataAssetFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:rights_rightsallocation_changelist")


@pytest.fixture
def staff_steward(steward):
    steward.is_staff = True
    steward.save()
    steward.user_permissions.add(Permission.objects.get(
        content_type__app_label="rights", codename="view_rightsallocation"))
    return steward


def test_the_list_shows_only_allocations_over_visible_assets(client, staff_steward, hospital,
                                                             far_hospital):
    mine = AllocationFactory(asset=DataAssetFactory(holder=hospital))
    AllocationFactory(asset=DataAssetFactory(holder=far_hospital))
    client.force_login(staff_steward)
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [mine]


def test_the_superuser_sees_all_and_nobody_writes(client, superuser, hospital, far_hospital):
    allocations = [AllocationFactory(asset=DataAssetFactory(holder=holder))
                   for holder in (hospital, far_hospital)]
    client.force_login(superuser)
    assert len(client.get(CHANGELIST).context["cl"].result_list) == 2
    assert client.get(reverse("admin:rights_rightsallocation_add")).status_code == 403
    change = client.get(reverse("admin:rights_rightsallocation_change",
                                args=[allocations[0].pk]))
    assert change.status_code == 200 and not change.context["has_change_permission"]
    delete = client.post(reverse("admin:rights_rightsallocation_delete",
                                 args=[allocations[0].pk]), {"post": "yes"})
    assert delete.status_code == 403
