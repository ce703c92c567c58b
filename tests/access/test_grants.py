"""Explicit grants: they count while live, through a user or a group, only through the one
scoping rule; granting and revoking re-check the granter and leave an audit event."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from access import services
from access.models import AssetGroupGrant, AssetUserGrant
from accounts.choices import InstitutionType, Role
from audit.models import AuditAction, AuditEvent
from catalog.models import DataAsset

from ..factories import (
    DataAssetFactory,
    InstitutionFactory,
    MembershipFactory,
    UserFactory,
    region,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer():
    cdc = InstitutionFactory(name="浙江省疾控中心", region=region("33"), type=InstitutionType.CDC)
    return MembershipFactory(user=UserFactory(username="officer"), institution=cdc,
                             role=Role.PUBLIC_HEALTH_OFFICER).user


@pytest.fixture
def asset(hospital):
    return DataAssetFactory(holder=hospital)


def future(days=30):
    return timezone.now() + timedelta(days=days)


def test_a_live_view_grant_shows_the_asset_and_nothing_more(steward, officer, asset):
    other = DataAssetFactory(holder=asset.holder)
    assert not DataAsset.objects.visible_to(officer).filter(pk=asset.pk).exists()
    services.grant(asset.pk, officer, "view_dataasset", expires_at=future(), reason="监测项目",
                   actor=steward)
    assert set(DataAsset.objects.visible_to(officer).filter(pk__in=[asset.pk, other.pk])) == {
        asset}
    assert not DataAsset.objects.editable_by(officer).exists()
    assert officer.has_perm("catalog.view_dataasset", asset)
    assert not officer.has_perm("catalog.change_dataasset", asset)


def test_an_expired_grant_counts_nowhere(steward, officer, asset):
    row = services.grant(asset.pk, officer, "change_dataasset", expires_at=future(),
                         reason="x", actor=steward)
    AssetUserGrant.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(
        seconds=1))
    fresh = type(officer).objects.get(pk=officer.pk)
    assert not DataAsset.objects.visible_to(fresh).filter(pk=asset.pk).exists()
    assert not DataAsset.objects.editable_by(fresh).exists()
    assert not fresh.has_perm("catalog.view_dataasset", asset)
    assert not fresh.has_perm("catalog.change_dataasset", asset)


def test_a_change_grant_lets_edit_and_view(steward, officer, asset):
    services.grant(asset.pk, officer, "change_dataasset", expires_at=None, reason="x",
                   actor=steward)
    assert list(DataAsset.objects.editable_by(officer)) == [asset]
    assert list(DataAsset.objects.visible_to(officer).filter(pk=asset.pk)) == [asset]


def test_a_group_grant_counts_for_its_members_only(steward, officer, asset):
    group = Group.objects.create(name="疫情分析组")
    services.grant(asset.pk, group, "view_dataasset", expires_at=None, reason="x", actor=steward)
    assert not DataAsset.objects.visible_to(officer).filter(pk=asset.pk).exists()
    officer.groups.add(group)
    assert DataAsset.objects.visible_to(officer).filter(pk=asset.pk).exists()
    officer.groups.remove(group)
    assert not DataAsset.objects.visible_to(officer).filter(pk=asset.pk).exists()


def test_a_deactivated_account_keeps_no_grant(steward, officer, asset):
    services.grant(asset.pk, officer, "view_dataasset", expires_at=None, reason="x",
                   actor=steward)
    officer.is_active = False
    officer.save()
    assert not DataAsset.objects.visible_to(officer).filter(pk=asset.pk).exists()


def test_grants_filter_with_one_subquery_whatever_their_number(steward, officer, hospital):
    assets = [DataAssetFactory(holder=hospital) for _ in range(12)]
    for one in assets[:2]:
        services.grant(one.pk, officer, "view_dataasset", expires_at=None, reason="x",
                       actor=steward)
    sql = str(DataAsset.objects.visible_to(officer).query)
    assert 'FROM "access_assetusergrant"' in sql and 'FROM "access_assetgroupgrant"' in sql
    assert not re.search(r'"catalog_dataasset"\."id" IN \(\d', sql)  # never a list of ids
    fresh = type(officer).objects.get(pk=officer.pk)
    with CaptureQueriesContext(connection) as few:
        assert len(list(DataAsset.objects.visible_to(fresh).filter(holder=hospital))) == 2
    for one in assets[2:]:
        services.grant(one.pk, officer, "view_dataasset", expires_at=None, reason="x",
                       actor=steward)
    fresh = type(officer).objects.get(pk=officer.pk)
    with CaptureQueriesContext(connection) as many:
        assert len(list(DataAsset.objects.visible_to(fresh).filter(holder=hospital))) == 12
    assert len(few) == len(many) == 2  # the memberships, then the assets


@pytest.mark.parametrize("who", ["registrar", "far_steward", "officer"])
def test_only_a_steward_in_jurisdiction_may_grant(request, who, officer, asset, far_hospital):
    far_commission = InstitutionFactory(commission=True, region=region("44"))
    actors = {
        "registrar": lambda: request.getfixturevalue("registrar"),
        "far_steward": lambda: MembershipFactory(institution=far_commission,
                                                 role=Role.STEWARD).user,
        "officer": lambda: officer,
    }
    actor = actors[who]()
    with pytest.raises(PermissionDenied):
        services.grant(asset.pk, officer, "view_dataasset", expires_at=None, reason="x",
                       actor=actor)
    assert not AssetUserGrant.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.GRANT_ADDED).exists()


@pytest.mark.parametrize("kwargs", [
    {"reason": "  "},
    {"expires_at": timezone.now() - timedelta(days=1)},
    {"codename": "delete_dataasset"},
])
def test_a_bad_grant_is_refused_and_writes_nothing(steward, officer, asset, kwargs):
    arguments = {"codename": "view_dataasset", "expires_at": None, "reason": "监测", **kwargs}
    with pytest.raises(ValidationError):
        services.grant(asset.pk, officer, arguments.pop("codename"), actor=steward, **arguments)
    assert not AssetUserGrant.objects.exists()
    assert not AuditEvent.objects.exists() or not AuditEvent.objects.filter(
        action__startswith="grant.").exists()


def test_granting_again_renews_the_one_grant_and_records_before_and_after(steward, officer,
                                                                           asset):
    first = services.grant(asset.pk, officer, "view_dataasset", expires_at=future(10),
                           reason="初次", actor=steward)
    renewed = services.grant(asset.pk, officer, "view_dataasset", expires_at=future(90),
                             reason="续期", actor=steward)
    assert renewed.pk == first.pk and AssetUserGrant.objects.count() == 1
    added, changed = AuditEvent.objects.filter(action__startswith="grant.").order_by("id")
    assert added.action == AuditAction.GRANT_ADDED and added.before is None
    assert added.after["grantee"] == "officer" and added.after["reason"] == "初次"
    assert changed.action == AuditAction.GRANT_CHANGED
    assert changed.before["reason"] == "初次" and changed.after["reason"] == "续期"
    assert changed.before["expires_at"] != changed.after["expires_at"]
    assert changed.actor == steward and changed.reason == "续期"
    assert changed.institution == asset.holder


def test_revoking_removes_the_grant_and_is_recorded(steward, officer, asset):
    row = services.grant(asset.pk, officer, "view_dataasset", expires_at=None, reason="x",
                         actor=steward)
    services.revoke(row, reason="项目结束", actor=steward)
    assert not AssetUserGrant.objects.exists()
    event = AuditEvent.objects.get(action=AuditAction.GRANT_REVOKED)
    assert event.actor == steward and event.actor_name == steward.username
    assert event.reason == "项目结束" and event.after is None
    assert event.before["permission"] == "view_dataasset"
    assert not DataAsset.objects.visible_to(officer).filter(pk=asset.pk).exists()


def test_revoking_needs_the_right_to_grant(steward, registrar, officer, asset):
    row = services.grant(asset.pk, officer, "view_dataasset", expires_at=None, reason="x",
                         actor=steward)
    with pytest.raises(PermissionDenied):
        services.revoke(row, reason="x", actor=registrar)
    assert AssetUserGrant.objects.filter(pk=row.pk).exists()


def test_group_grant_rows_are_guardian_direct_foreign_key_models(steward, asset):
    group = Group.objects.create(name="g")
    row = services.grant(asset.pk, group, "view_dataasset", expires_at=None, reason="x",
                         actor=steward)
    assert isinstance(row, AssetGroupGrant)
    assert AssetGroupGrant._meta.get_field("content_object").related_model is DataAsset


def test_cached_counts_forget_a_grant_that_runs_out(client, steward, officer, asset, settings):
    """No write announces an expiry: the user's next expiry is part of the cache key."""
    import time

    from django.core.cache import cache
    from django.urls import reverse

    settings.CATALOG_FACET_CACHE_SECONDS = 60
    cache.clear()
    services.grant(asset.pk, officer, "view_dataasset",
                   expires_at=timezone.now() + timedelta(seconds=1.5), reason="短期",
                   actor=steward)
    client.force_login(officer)
    assert client.get(reverse("catalog:asset_list")).context["facets"].total == 1
    time.sleep(1.6)
    again = client.get(reverse("catalog:asset_list"))
    assert again.context["facets"].total == 0
    assert not again.context["page"].items


def test_cached_counts_forget_a_revoked_grant_without_end(
    client, steward, officer, asset, settings, django_capture_on_commit_callbacks
):
    from django.core.cache import cache
    from django.urls import reverse

    settings.CATALOG_FACET_CACHE_SECONDS = 60
    cache.clear()
    row = services.grant(asset.pk, officer, "view_dataasset", expires_at=None, reason="长期",
                         actor=steward)
    client.force_login(officer)
    assert client.get(reverse("catalog:asset_list")).context["facets"].total == 1
    with django_capture_on_commit_callbacks(execute=True):  # the revocation commits
        services.revoke(row, reason="结束", actor=steward)
    assert client.get(reverse("catalog:asset_list")).context["facets"].total == 0
