"""Turns a change of an audited object into an audit event: what it was, what it became.

Each audited model has a snapshot (the fields that matter for security, as plain JSON) and
the institution the change concerns, which decides who may read the event.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType

from catalog import history

from .models import AuditAction, AuditEvent


@dataclass(frozen=True)
class Audited:
    snapshot: Callable[[object], dict]
    institution: Callable[[object], object | None]
    added: AuditAction
    changed: AuditAction
    removed: AuditAction


def _user_snapshot(user) -> dict:
    return {
        "username": user.username,
        "full_name": user.full_name,
        "email": user.email,
        "is_active": user.is_active,
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
        # Never the hash itself: only whether it changed (compared through a digest).
        "password": _password_marker(user.password),
    }


def _password_marker(password: str) -> str:
    import hashlib

    return hashlib.sha256(password.encode()).hexdigest()[:12] if password else ""


def _membership_snapshot(membership) -> dict:
    return {
        "user": membership.user.username,
        "institution": membership.institution.name,
        "role": membership.role,
        "is_active": membership.is_active,
    }


def _grant_snapshot(grant) -> dict:
    grantee = grant.user.username if hasattr(grant, "user_id") else grant.group.name
    return {
        "grantee": grantee,
        "grantee_kind": "user" if hasattr(grant, "user_id") else "group",
        "permission": grant.permission.codename,
        "asset": grant.content_object.code,
        "expires_at": grant.expires_at.isoformat() if grant.expires_at else None,
        "reason": grant.reason,
    }


@functools.cache
def audited_models() -> dict[type, Audited]:
    """The audited models and how each is recorded (built once: every model's save asks)."""
    from access.models import AssetGroupGrant, AssetUserGrant
    from accounts.models import Membership

    grant = Audited(
        _grant_snapshot, lambda g: g.content_object.holder,
        AuditAction.GRANT_ADDED, AuditAction.GRANT_CHANGED, AuditAction.GRANT_REVOKED,
    )
    return {
        get_user_model(): Audited(
            _user_snapshot, lambda u: None,
            AuditAction.USER_ADDED, AuditAction.USER_CHANGED, AuditAction.USER_REMOVED,
        ),
        Membership: Audited(
            _membership_snapshot, lambda m: m.institution,
            AuditAction.MEMBERSHIP_ADDED, AuditAction.MEMBERSHIP_CHANGED,
            AuditAction.MEMBERSHIP_REMOVED,
        ),
        AssetUserGrant: grant,
        AssetGroupGrant: grant,
    }


def snapshot(obj) -> dict | None:
    spec = audited_models().get(type(obj))
    return spec.snapshot(obj) if spec else None


def actor_name(using: str = "default") -> str:
    """The username of the acting user of the current context ("" for none)."""
    actor_id = history.current().actor_id
    if actor_id is None:
        return ""
    return (
        get_user_model()._base_manager.using(using).filter(pk=actor_id)
        .values_list("username", flat=True).first() or ""
    )


def event(
    action: AuditAction, target, *, before: dict | None, after: dict | None,
    institution=None, actor: str = "", using: str = "default",
) -> AuditEvent:
    """An unsaved audit event of the current context (``actor``: its username)."""
    context = history.current()
    region = getattr(institution, "region", None)
    return AuditEvent(
        actor_id=context.actor_id,
        actor_name=actor,
        action=action,
        target_type=ContentType.objects.db_manager(using).get_for_model(target),
        target_id=str(target.pk),
        target_repr=str(target)[:300],
        institution=institution,
        region=region,
        region_province_id=region.province_id if region else None,
        region_city_id=region.city_id if region else None,
        before=before,
        after=after,
        reason=context.reason,
        request_id=context.request_id,
    )


def record(
    action: AuditAction, target, *, before: dict | None, after: dict | None,
    institution=None, using: str = "default",
) -> AuditEvent:
    recorded = event(action, target, before=before, after=after, institution=institution,
                     actor=actor_name(using), using=using)
    recorded.save(using=using)
    return recorded


def record_created(obj, using: str = "default") -> None:
    spec = audited_models()[type(obj)]
    record(
        spec.added, obj, before=None, after=spec.snapshot(obj),
        institution=spec.institution(obj), using=using,
    )


def record_saved(obj, before: dict | None, created: bool, using: str = "default") -> None:
    spec = audited_models()[type(obj)]
    after = spec.snapshot(obj)
    if created:
        record(spec.added, obj, before=None, after=after, institution=spec.institution(obj),
               using=using)
    elif before != after:
        record(spec.changed, obj, before=before, after=after,
               institution=spec.institution(obj), using=using)


def record_deleted(obj, before: dict, using: str = "default") -> None:
    spec = audited_models()[type(obj)]
    record(spec.removed, obj, before=before, after=None, institution=spec.institution(obj),
           using=using)


def record_relation_change(
    action: AuditAction, target, names_before: list[str], names_after: list[str],
    using: str = "default",
) -> None:
    if sorted(names_before) == sorted(names_after):
        return
    record(action, target, before={"names": sorted(names_before)},
           after={"names": sorted(names_after)}, using=using)


def group_names(user) -> list[str]:
    return list(Group.objects.filter(user=user).values_list("name", flat=True))
