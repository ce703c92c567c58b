"""Managing an institution's people: add, re-role, deactivate. Each operation re-checks the
actor's right over the institution and over the role, runs in one transaction, and is
recorded in the audit trail (through the models' signals) with the actor."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from catalog.history import ledger_context

from .choices import Role
from .models import Institution, Membership, User
from .scoping import INSTITUTION_ASSIGNABLE_ROLES, Action, forget_reach


def assignable_roles(actor) -> frozenset[str]:
    """The roles ``actor`` may give or take away at the institutions they manage."""
    if actor.is_superuser:
        return frozenset(Role.values)
    return frozenset(INSTITUTION_ASSIGNABLE_ROLES)


def _manageable(actor, institution_id: int) -> Institution:
    institution = Institution.objects.restrict(actor, Action.MANAGE_MEMBERS).filter(
        pk=institution_id
    ).first()
    if institution is None:
        raise PermissionDenied(_("You may not manage the people of this institution."))
    return institution


def _check_role(actor, role: str) -> None:
    if role not in assignable_roles(actor):
        raise PermissionDenied(_(
            "An institution administrator cannot give or change the role “%(role)s”; a platform "
            "administrator does."
        ) % {"role": Role(role).label})


def add_member(
    institution_id: int, *, actor, username: str, role: str, full_name: str = "",
    email: str = "", password: str = "",
) -> Membership:
    """Give ``username`` the role at the institution, creating the account when it does
    not exist yet (then ``password`` is required and checked by the password rules)."""
    _check_role(actor, role)
    with transaction.atomic(), ledger_context(actor=actor, reason=_("Member added")):
        institution = _manageable(actor, institution_id)
        user = User.objects.filter(username=username).first()
        if user is None:
            if not password:
                raise ValidationError({"password": _(
                    "This is a new account: give it an initial password.")})
            user = User(username=username, full_name=full_name, email=email)
            try:
                validate_password(password, user)
            except ValidationError as weak:
                raise ValidationError({"password": weak.messages}) from None
            user.set_password(password)
            user.full_clean()
            user.save()
        elif password:
            raise ValidationError({"password": _(
                "This account already exists; its password is not changed here. Leave the "
                "password empty to give it the role.")})
        membership = Membership.objects.filter(
            user=user, institution=institution, role=role
        ).first()
        if membership is None:
            membership = Membership(user=user, institution=institution, role=role)
            membership.full_clean()
        elif membership.is_active:
            raise ValidationError(_("This user already has this role here."))
        membership.is_active = True
        membership.save()
    return membership


def change_role(membership_id: int, role: str, *, actor) -> Membership:
    _check_role(actor, role)
    with transaction.atomic(), ledger_context(actor=actor, reason=_("Role changed")):
        membership = Membership.objects.select_for_update().get(pk=membership_id)
        _manageable(actor, membership.institution_id)
        _check_role(actor, membership.role)
        if membership.role == role:
            return membership
        _refuse_self_lockout(actor, membership)
        if Membership.objects.filter(
            user_id=membership.user_id, institution_id=membership.institution_id, role=role
        ).exists():
            raise ValidationError(_("This user already has this role here."))
        membership.role = role
        membership.full_clean(validate_unique=False)
        membership.save()
    forget_reach(actor)
    return membership


def set_active(membership_id: int, active: bool, *, actor) -> Membership:
    reason = _("Role reactivated") if active else _("Role deactivated")
    with transaction.atomic(), ledger_context(actor=actor, reason=reason):
        membership = Membership.objects.select_for_update().get(pk=membership_id)
        _manageable(actor, membership.institution_id)
        _check_role(actor, membership.role)
        if not active:
            _refuse_self_lockout(actor, membership)
        if membership.is_active != active:
            membership.is_active = active
            membership.save()
    forget_reach(actor)
    return membership


def _refuse_self_lockout(actor, membership: Membership) -> None:
    if membership.user_id == actor.pk and membership.role == Role.INSTITUTION_ADMIN:
        raise ValidationError(_(
            "You cannot remove your own administrator role; another administrator can."))
