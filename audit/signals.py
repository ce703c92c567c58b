"""Every save and delete of an audited model, and every change of an account's groups or
permissions, becomes an audit event — whatever path made it."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver

from . import recorder
from .models import AuditAction

BEFORE = "_audit_before"


def _is_audited(sender) -> bool:
    return sender in recorder.audited_models()


@receiver(pre_save, dispatch_uid="audit_pre_save")
def remember_before(sender, instance, raw=False, using="default", **kwargs) -> None:
    if raw or not _is_audited(sender):
        return
    previous = None
    if instance.pk is not None:
        previous = sender._base_manager.using(using).filter(pk=instance.pk).first()
    instance.__dict__[BEFORE] = recorder.snapshot(previous) if previous else None


@receiver(post_save, dispatch_uid="audit_post_save")
def record_save(sender, instance, created, raw=False, using="default", **kwargs) -> None:
    if raw or not _is_audited(sender):
        return
    before = instance.__dict__.pop(BEFORE, None)
    recorder.record_saved(instance, before, created or before is None, using=using)


@receiver(pre_delete, dispatch_uid="audit_pre_delete")
def remember_deleted(sender, instance, using="default", **kwargs) -> None:
    if not _is_audited(sender):
        return
    spec = recorder.audited_models()[sender]
    instance.__dict__[BEFORE] = (spec.snapshot(instance), spec.institution(instance))


@receiver(post_delete, dispatch_uid="audit_post_delete")
def record_delete(sender, instance, using="default", **kwargs) -> None:
    if not _is_audited(sender):
        return
    before, institution = instance.__dict__.pop(BEFORE)
    spec = recorder.audited_models()[sender]
    recorder.record(spec.removed, instance, before=before, after=None,
                    institution=institution, using=using)


def _names(manager) -> list[str]:
    return [str(item) for item in manager.all()]


@receiver(m2m_changed, sender=get_user_model().groups.through, dispatch_uid="audit_groups")
def record_groups(sender, instance, action, reverse, pk_set, using="default", **kwargs) -> None:
    _record_m2m(instance, action, reverse, pk_set, using, field="groups",
                audit_action=AuditAction.USER_GROUPS_CHANGED, reverse_field="user_set")


@receiver(
    m2m_changed, sender=get_user_model().user_permissions.through,
    dispatch_uid="audit_user_permissions",
)
def record_user_permissions(sender, instance, action, reverse, pk_set, using="default",
                            **kwargs) -> None:
    _record_m2m(instance, action, reverse, pk_set, using, field="user_permissions",
                audit_action=AuditAction.USER_PERMISSIONS_CHANGED, reverse_field="user_set")


@receiver(m2m_changed, sender=Group.permissions.through, dispatch_uid="audit_group_permissions")
def record_group_permissions(sender, instance, action, reverse, pk_set, using="default",
                             **kwargs) -> None:
    _record_m2m(instance, action, reverse, pk_set, using, field="permissions",
                audit_action=AuditAction.GROUP_PERMISSIONS_CHANGED, reverse_field="group_set")


def _record_m2m(instance, action, reverse, pk_set, using, *, field, audit_action, reverse_field):
    """Record the relation of the owning side (the account or the group) before and after.

    Seen from the other side (``permission.user_set.add(user)``), each affected owner is
    recorded on its own.
    """
    if action not in {"pre_add", "pre_remove", "pre_clear", "post_add", "post_remove",
                      "post_clear"}:
        return
    if action.startswith("post_"):
        owners = []
    elif reverse:
        owner_model = getattr(type(instance), reverse_field).rel.related_model
        owners = (
            list(owner_model._base_manager.using(using).filter(pk__in=pk_set))
            if pk_set is not None
            else list(getattr(instance, reverse_field).all())
        )
    else:
        owners = [instance]
    state = f"_audit_m2m_{field}"
    if action.startswith("pre_"):
        instance.__dict__[state] = {
            owner.pk: (owner, _names(getattr(owner, field))) for owner in owners
        }
        return
    for owner, before in instance.__dict__.pop(state, {}).values():
        recorder.record_relation_change(
            audit_action, owner, before, _names(getattr(owner, field)), using=using
        )
