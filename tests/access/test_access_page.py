"""The "who has access, and why" page: read back from the same rules, grant and revoke."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from access import services
from access.models import AssetUserGrant
from accounts.choices import Role

from ..factories import DataAssetFactory, InstitutionFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def asset(hospital):
    return DataAssetFactory(holder=hospital, name="住院病案首页")


def page(client, asset):
    return client.get(reverse("access:asset_access", args=[asset.pk]))


def test_lists_every_reason_for_access(client, steward, registrar, far_hospital, asset):
    officer = UserFactory(username="officer")
    services.grant(asset.pk, officer, "view_dataasset",
                   expires_at=timezone.now() + timedelta(days=5), reason="监测协作",
                   actor=steward)
    lapsed = UserFactory(username="lapsed")
    row = services.grant(asset.pk, lapsed, "view_dataasset",
                         expires_at=timezone.now() + timedelta(days=5), reason="旧项目",
                         actor=steward)
    AssetUserGrant.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(days=1))
    far_registrar = MembershipFactory(institution=far_hospital, role=Role.REGISTRAR).user
    client.force_login(steward)
    response = page(client, asset)
    assert response.status_code == 200
    entries = {
        (entry.who.username if entry.who else "public"): entry
        for entry in response.context["entries"]
    }
    assert "registrar" in entries and "holding institution" in entries["registrar"].reason
    assert "steward33" in entries and "jurisdiction" in entries["steward33"].reason
    assert [str(a) for a in entries["steward33"].actions] == ["view", "change", "grant"]
    assert entries["officer"].live and "监测协作" in entries["officer"].reason
    assert not entries["lapsed"].live
    assert far_registrar.username not in entries
    assert "public" not in entries  # conditionally shared: not in the open catalog
    assert "no longer counts" in response.content.decode()


def test_open_assets_list_the_public(client, steward, hospital):
    asset = DataAssetFactory(holder=hospital, open=True)
    client.force_login(steward)
    kinds = [entry.kind for entry in page(client, asset).context["entries"]]
    assert "public" in kinds


def test_grant_and_revoke_through_the_page(client, steward, asset):
    UserFactory(username="officer")
    client.force_login(steward)
    url = reverse("access:asset_access", args=[asset.pk])
    until = (timezone.localdate() + timedelta(days=30)).isoformat()
    response = client.post(url, {"grantee_kind": "user", "grantee": "officer",
                                 "permission": "view_dataasset", "valid_until": until,
                                 "reason": "应急"})
    assert response.status_code == 302
    row = AssetUserGrant.objects.get()
    assert timezone.localtime(row.expires_at).date().isoformat() > until  # through that day
    response = client.post(
        reverse("access:revoke_grant", args=[asset.pk, "user", row.pk]), {"reason": "结束"})
    assert response.status_code == 302 and not AssetUserGrant.objects.exists()


@pytest.mark.parametrize(("data", "field"), [
    ({"grantee": "nobody-here"}, "grantee"),
    ({"valid_until": "2001-01-01"}, "valid_until"),
    ({"reason": ""}, "reason"),
    ({"permission": "delete_dataasset"}, "permission"),
])
def test_bad_grant_input_is_explained_and_writes_nothing(client, steward, asset, data, field):
    UserFactory(username="officer")
    client.force_login(steward)
    post = {"grantee_kind": "user", "grantee": "officer", "permission": "view_dataasset",
            "valid_until": "", "reason": "应急", **data}
    response = page_post = client.post(reverse("access:asset_access", args=[asset.pk]), post)
    assert page_post.status_code == 200
    assert field in response.context["form"].errors
    assert not AssetUserGrant.objects.exists()


def test_error_messages_are_in_chinese_by_default(zh_client, steward, asset):
    zh_client.force_login(steward)
    response = zh_client.post(reverse("access:asset_access", args=[asset.pk]), {
        "grantee_kind": "user", "grantee": "nobody-here", "permission": "view_dataasset",
        "reason": "x"})
    assert "不存在该用户名的用户" in response.content.decode()


def test_revoke_of_a_grant_on_another_asset_is_404(client, steward, asset, hospital):
    other = DataAssetFactory(holder=hospital)
    row = services.grant(other.pk, UserFactory(), "view_dataasset", expires_at=None,
                         reason="x", actor=steward)
    client.force_login(steward)
    response = client.post(reverse("access:revoke_grant", args=[asset.pk, "user", row.pk]),
                           {"reason": "x"})
    assert response.status_code == 404
    assert AssetUserGrant.objects.filter(pk=row.pk).exists()


def test_county_steward_cannot_manage_access_outside_the_county(client, asset):
    county = InstitutionFactory(commission=True, region=asset.holder.region.parent.children
                                .exclude(pk=asset.holder.region_id).first())
    other_county_steward = MembershipFactory(institution=county, role=Role.STEWARD).user
    client.force_login(other_county_steward)
    assert page(client, asset).status_code == 404
