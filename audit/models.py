"""The audit trail: who changed a permission, a role or an account, when, from what to what.

Append-only. Rows are written by :mod:`audit.signals` for every save and delete of the
audited models, so a change made through a page, the administration, a job or the shell is
recorded the same way; the acting user comes from the ledger context of the request or job.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scoping import Action, reach, reach_q


class AuditAction(models.TextChoices):
    USER_ADDED = "user.added", _("Account created")
    USER_CHANGED = "user.changed", _("Account changed")
    USER_REMOVED = "user.removed", _("Account deleted")
    USER_GROUPS_CHANGED = "user.groups", _("Group membership changed")
    USER_PERMISSIONS_CHANGED = "user.permissions", _("Account permissions changed")
    GROUP_PERMISSIONS_CHANGED = "group.permissions", _("Group permissions changed")
    MEMBERSHIP_ADDED = "membership.added", _("Role given")
    MEMBERSHIP_CHANGED = "membership.changed", _("Role changed")
    MEMBERSHIP_REMOVED = "membership.removed", _("Role removed")
    GRANT_ADDED = "grant.added", _("Permission granted")
    GRANT_CHANGED = "grant.changed", _("Grant changed")
    GRANT_REVOKED = "grant.revoked", _("Permission revoked")
    APPLICATION_SUBMITTED = "application.submitted", _("Application submitted")
    APPLICATION_RETURNED = "application.returned", _("Application returned for revision")
    APPLICATION_APPROVED = "application.approved", _("Application approved")
    APPLICATION_REJECTED = "application.rejected", _("Application rejected")
    REPORT_DOWNLOADED = "report.downloaded", _("Report file downloaded")


class AuditEventQuerySet(models.QuerySet):
    def restrict(self, user, action: Action = Action.AUDIT) -> AuditEventQuerySet:
        """The events ``user`` may read: those about institutions in their audit reach.
        Events about no institution (accounts, groups) are for national reach only."""
        condition = reach_q(reach(user, action), institution_field="institution")
        return self if condition is None else self.filter(condition)

    def visible_to(self, user) -> AuditEventQuerySet:
        return self.restrict(user, Action.AUDIT)


class AuditEvent(models.Model):
    occurred_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("actor"),
    )
    # Kept as text too, so the trail still names a deleted account.
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=30, choices=AuditAction.choices)
    target_type = models.ForeignKey(
        ContentType, models.PROTECT, related_name="+", verbose_name=_("object type")
    )
    target_id = models.CharField(_("object id"), max_length=64)
    target_repr = models.CharField(_("object"), max_length=300)
    # The institution the change concerns, with its region copies: who may read the event.
    institution = models.ForeignKey(
        "accounts.Institution", models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("institution"),
    )
    region = models.ForeignKey(
        "accounts.Region", models.SET_NULL, null=True, blank=True, related_name="+",
    )
    region_province = models.ForeignKey(
        "accounts.Region", models.SET_NULL, null=True, blank=True, related_name="+",
    )
    region_city = models.ForeignKey(
        "accounts.Region", models.SET_NULL, null=True, blank=True, related_name="+",
    )
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    request_id = models.CharField(max_length=32, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id", "-id"], name="audit_target_idx"),
            models.Index(fields=["institution", "-id"], name="audit_institution_idx"),
            models.Index(fields=["region_province", "-id"], name="audit_province_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.target_id}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("Audit events are never changed.")
        super().save(*args, **kwargs)

    @property
    def changed_keys(self) -> list[str]:
        before, after = self.before or {}, self.after or {}
        return [key for key in {**before, **after} if before.get(key) != after.get(key)]
