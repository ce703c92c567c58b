"""Every change of a role, an account's powers or its groups is an audit event with actor,
time, before and after — whatever path made it; the trail is readable only in reach."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from accounts.choices import Role
from accounts.models import Membership, User
from audit.models import AuditAction, AuditEvent
from catalog.history import ledger_context

from ..factories import InstitutionFactory, MembershipFactory, UserFactory, region

pytestmark = pytest.mark.django_db


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def test_membership_lifecycle_is_recorded_with_actor_before_and_after(superuser, hospital):
    user = UserFactory(username="zhang")
    with ledger_context(actor=superuser, reason="入职"):
        membership = Membership.objects.create(user=user, institution=hospital,
                                               role=Role.REGISTRAR)
    with ledger_context(actor=superuser, reason="调岗"):
        membership.role = Role.INSTITUTION_ADMIN
        membership.save()
    with ledger_context(actor=superuser):
        membership.delete()
    [added] = events(AuditAction.MEMBERSHIP_ADDED)
    [changed] = events(AuditAction.MEMBERSHIP_CHANGED)
    [removed] = events(AuditAction.MEMBERSHIP_REMOVED)
    assert added.before is None and added.after["role"] == Role.REGISTRAR
    assert added.actor == superuser and added.reason == "入职" and added.occurred_at
    assert changed.before["role"] == Role.REGISTRAR
    assert changed.after["role"] == Role.INSTITUTION_ADMIN and changed.reason == "调岗"
    assert removed.before["role"] == Role.INSTITUTION_ADMIN and removed.after is None
    assert {added.institution, changed.institution, removed.institution} == {hospital}
    assert added.region_province_id == "330000"


def test_saving_without_a_change_records_nothing(hospital):
    membership = MembershipFactory(institution=hospital)
    before = AuditEvent.objects.count()
    membership.save()
    assert AuditEvent.objects.count() == before


def test_bulk_update_of_roles_is_recorded_row_by_row(hospital):
    rows = [MembershipFactory(institution=hospital) for _ in range(3)]
    Membership.objects.filter(pk__in=[m.pk for m in rows]).update(is_active=False)
    changed = events(AuditAction.MEMBERSHIP_CHANGED)
    assert len(changed) == 3
    assert all(e.before["is_active"] and not e.after["is_active"] for e in changed)


def test_account_powers_are_recorded_but_a_sign_in_is_not(superuser):
    user = UserFactory(username="li")
    with ledger_context(actor=superuser):
        user.is_superuser = True
        user.save()
    [changed] = events(AuditAction.USER_CHANGED)
    assert changed.before["is_superuser"] is False and changed.after["is_superuser"] is True
    count = AuditEvent.objects.count()
    user.last_login = user.date_joined
    user.save(update_fields=["last_login"])
    assert AuditEvent.objects.count() == count
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert events(AuditAction.USER_CHANGED)[-1].after["is_active"] is False


def test_password_change_is_recorded_without_the_hash(superuser):
    user = UserFactory(username="wang")
    user.set_password("another-pass-456")
    user.save()
    [changed] = events(AuditAction.USER_CHANGED)
    assert changed.before["password"] != changed.after["password"]
    assert user.password not in str(changed.after)


def test_group_membership_from_either_side_is_recorded(superuser):
    user = UserFactory(username="zhao")
    group = Group.objects.create(name="疫情分析组")
    user.groups.add(group)
    group.user_set.remove(user)
    added, removed = events(AuditAction.USER_GROUPS_CHANGED)
    assert added.before == {"names": []} and added.after == {"names": ["疫情分析组"]}
    assert removed.before == {"names": ["疫情分析组"]} and removed.after == {"names": []}
    group.permissions.add(Permission.objects.get(codename="view_dataasset"))
    [permissions] = events(AuditAction.GROUP_PERMISSIONS_CHANGED)
    assert permissions.after["names"] and not permissions.before["names"]


def test_events_are_never_changed(hospital):
    MembershipFactory(institution=hospital)
    event = AuditEvent.objects.first()
    event.reason = "篡改"
    with pytest.raises(ValueError):
        event.save()


def test_audit_page_shows_only_events_in_reach(client, hospital, far_hospital,
                                                province_commission, superuser):
    MembershipFactory(institution=hospital, user=UserFactory(username="near"))
    MembershipFactory(institution=far_hospital, user=UserFactory(username="far"))
    auditor = MembershipFactory(institution=province_commission, role=Role.AUDITOR).user
    client.force_login(auditor)
    response = client.get(reverse("audit:events"))
    assert response.status_code == 200
    shown = {event.target_repr for event in response.context["events"]}
    assert any("near" in s or "用户" in s for s in shown)
    institutions = {event.institution_id for event in response.context["events"]}
    assert far_hospital.pk not in institutions and hospital.pk in institutions
    assert None not in institutions  # account events are for national reach only
    client.force_login(superuser)
    everything = client.get(reverse("audit:events")).context["events"]
    assert far_hospital.pk in {event.institution_id for event in everything}


def test_audit_page_refuses_roles_without_audit_reach(client, registrar):
    client.force_login(registrar)
    assert client.get(reverse("audit:events")).status_code == 403


def test_institution_admin_reads_own_institution_events(client, hospital, far_hospital):
    admin = MembershipFactory(institution=hospital, role=Role.INSTITUTION_ADMIN).user
    MembershipFactory(institution=far_hospital)
    client.force_login(admin)
    shown = {e.institution_id for e in client.get(reverse("audit:events")).context["events"]}
    assert shown == {hospital.pk}


def test_audit_page_pages_back_in_time(client, superuser, settings):
    settings.CATALOG_PAGE_SIZE = 3
    hospital = InstitutionFactory(region=region("330106"))
    for _ in range(4):
        MembershipFactory(institution=hospital)
    client.force_login(superuser)
    first = client.get(reverse("audit:events"))
    ids = [e.pk for e in first.context["events"]]
    older = client.get(reverse("audit:events"), {"before": first.context["next_before"]})
    more = [e.pk for e in older.context["events"]]
    assert len(ids) == 3 and more and max(more) < min(ids)
