"""Institution administrators manage their institution's people, within their limits."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.choices import Role
from accounts.models import Membership, User
from audit.models import AuditAction, AuditEvent

from ..factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(hospital):
    return MembershipFactory(user=UserFactory(username="admin_h"), institution=hospital,
                             role=Role.INSTITUTION_ADMIN).user


def members_url(institution):
    return reverse("accounts:members", args=[institution.pk])


def add(client, institution, **data):
    post = {"username": "newbie", "full_name": "新人", "email": "", "role": Role.REGISTRAR,
            "password": "Quiet-River-2026", **data}
    return client.post(members_url(institution), post)


def test_admin_adds_a_new_registrar_and_it_is_audited(client, admin, hospital):
    client.force_login(admin)
    response = add(client, hospital)
    assert response.status_code == 302
    user = User.objects.get(username="newbie")
    assert user.check_password("Quiet-River-2026")
    assert Membership.objects.filter(user=user, institution=hospital, role=Role.REGISTRAR,
                                     is_active=True).exists()
    event = AuditEvent.objects.get(action=AuditAction.MEMBERSHIP_ADDED, after__user="newbie")
    assert event.actor == admin and event.after["role"] == Role.REGISTRAR
    assert AuditEvent.objects.filter(action=AuditAction.USER_ADDED, actor=admin).exists()


@pytest.mark.parametrize("role", [Role.STEWARD, Role.COMMISSION_STAFF, Role.AUDITOR])
def test_admin_cannot_give_commission_roles(client, admin, hospital, role):
    client.force_login(admin)
    count = Membership.objects.count()
    response = add(client, hospital, role=role)
    assert response.status_code == 200 and "role" in response.context["form"].errors
    assert Membership.objects.count() == count
    assert not User.objects.filter(username="newbie").exists()


def test_a_weak_password_is_refused_with_the_reason(client, admin, hospital):
    client.force_login(admin)
    response = add(client, hospital, password="123456")
    assert "password" in response.context["form"].errors
    assert not User.objects.filter(username="newbie").exists()


def test_an_existing_account_gets_the_role_without_a_password(client, admin, hospital):
    other = UserFactory(username="elsewhere")
    client.force_login(admin)
    refused = add(client, hospital, username="elsewhere")
    assert "password" in refused.context["form"].errors
    assert add(client, hospital, username="elsewhere", password="").status_code == 302
    assert Membership.objects.filter(user=other, institution=hospital).exists()


def test_change_role_and_deactivate(client, admin, hospital):
    membership = MembershipFactory(institution=hospital, role=Role.REGISTRAR)
    client.force_login(admin)
    url = reverse("accounts:membership_action", args=[hospital.pk, membership.pk, "role"])
    client.post(url, {f"m{membership.pk}-role": Role.INSTITUTION_ADMIN})
    membership.refresh_from_db()
    assert membership.role == Role.INSTITUTION_ADMIN
    client.post(reverse("accounts:membership_action",
                        args=[hospital.pk, membership.pk, "deactivate"]))
    membership.refresh_from_db()
    assert not membership.is_active
    actions = list(AuditEvent.objects.filter(target_id=str(membership.pk),
                                             target_type__model="membership")
                   .values_list("action", flat=True).order_by("id"))
    assert actions == [AuditAction.MEMBERSHIP_ADDED, AuditAction.MEMBERSHIP_CHANGED,
                       AuditAction.MEMBERSHIP_CHANGED]


def test_admin_cannot_promote_to_steward_or_touch_a_steward(client, admin, hospital):
    member = MembershipFactory(institution=hospital, role=Role.REGISTRAR)
    steward_here = MembershipFactory(institution=hospital, role=Role.STEWARD)
    client.force_login(admin)
    client.post(reverse("accounts:membership_action", args=[hospital.pk, member.pk, "role"]),
                {f"m{member.pk}-role": Role.STEWARD})
    client.post(reverse("accounts:membership_action",
                        args=[hospital.pk, steward_here.pk, "deactivate"]))
    member.refresh_from_db()
    steward_here.refresh_from_db()
    assert member.role == Role.REGISTRAR and steward_here.is_active


def test_admin_cannot_remove_own_admin_role(client, admin, hospital):
    own = Membership.objects.get(user=admin)
    client.force_login(admin)
    response = client.post(reverse("accounts:membership_action",
                                   args=[hospital.pk, own.pk, "deactivate"]), follow=True)
    own.refresh_from_db()
    assert own.is_active
    assert "cannot remove your own administrator role" in response.content.decode()


def test_other_institutions_are_out_of_reach(client, admin, far_hospital, registrar):
    client.force_login(admin)
    assert client.get(members_url(far_hospital)).status_code == 404
    assert add(client, far_hospital).status_code == 404
    client.force_login(registrar)
    assert client.get(reverse("accounts:institutions")).status_code == 403


def test_superuser_may_give_a_steward_role(client, superuser, province_commission):
    client.force_login(superuser)
    response = add(client, province_commission, role=Role.STEWARD)
    assert response.status_code == 302
    assert Membership.objects.filter(institution=province_commission, role=Role.STEWARD).exists()
