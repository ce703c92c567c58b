"""Explicit per-object grants on data assets: the second layer of the permission model.

django-guardian's direct foreign-key permission models (one row per grantee, permission and
asset, joined by a real foreign key rather than a generic one), with what a health data
grant also needs: an optional expiry after which it no longer counts, a reason, and who
granted it when. Whether a grant counts is decided in one place, :func:`live_grants`.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from audit.querysets import AuditedQuerySet

# What each grantable permission lets its holder do. Changing implies viewing.
GRANTABLE_PERMISSIONS = {
    "view_dataasset": _("View"),
    "change_dataasset": _("View and edit"),
}
PERMISSIONS_FOR_ACTION = {
    "view": ("view_dataasset", "change_dataasset"),
    "change": ("change_dataasset",),
}


class GrantQuerySet(AuditedQuerySet):
    def live(self, at=None) -> GrantQuerySet:
        """Grants that count at ``at`` (default: the database's now): no expiry, or one
        still ahead. The database clock keeps the scoped SQL the same from one request to
        the next, so it can serve as a cache key."""
        return self.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=at or Now()))

    def expired(self, at=None) -> GrantQuerySet:
        return self.filter(expires_at__lte=at or timezone.now())


class GrantFields(models.Model):
    expires_at = models.DateTimeField(
        _("valid until"), null=True, blank=True,
        help_text=_("After this moment the grant no longer counts. Empty: until revoked."),
    )
    reason = models.TextField(_("reason"), max_length=500)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("granted by"),
    )
    granted_at = models.DateTimeField(_("granted at"), default=timezone.now)

    objects = GrantQuerySet.as_manager()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        grantee = self.user if hasattr(self, "user_id") else self.group
        permission = GRANTABLE_PERMISSIONS.get(self.permission.codename, self.permission.codename)
        return f"{grantee} · {permission} · {self.content_object.code}"

    def is_live(self, at=None) -> bool:
        return self.expires_at is None or self.expires_at > (at or timezone.now())

    @property
    def codename(self) -> str:
        return self.permission.codename


class AssetUserGrant(GrantFields, UserObjectPermissionBase):
    content_object = models.ForeignKey(
        "catalog.DataAsset", models.CASCADE, related_name="user_grants",
        verbose_name=_("data asset"),
    )

    objects = GrantQuerySet.as_manager()

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = _("user grant")
        verbose_name_plural = _("user grants")
        indexes = [
            # The scoping subquery: a user's live grants of a permission, asset ids only.
            models.Index(
                fields=["user", "permission", "content_object", "expires_at"],
                name="access_usergrant_scope_idx",
            ),
            models.Index(fields=["expires_at"], name="access_usergrant_expiry_idx"),
        ]


class AssetGroupGrant(GrantFields, GroupObjectPermissionBase):
    content_object = models.ForeignKey(
        "catalog.DataAsset", models.CASCADE, related_name="group_grants",
        verbose_name=_("data asset"),
    )

    objects = GrantQuerySet.as_manager()

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = _("group grant")
        verbose_name_plural = _("group grants")
        indexes = [
            models.Index(
                fields=["group", "permission", "content_object", "expires_at"],
                name="access_groupgrant_scope_idx",
            ),
            models.Index(fields=["expires_at"], name="access_groupgrant_expiry_idx"),
        ]


# Permission ids by codename: rows made once by migrate (forgotten when migrate or flush
# runs again). Naming the ids spares every scoped query two joins, which cost PostgreSQL
# more to plan (about 2 ms of each catalog list) than the rest of the query to run.
_permission_ids: dict[tuple[str, ...], list[int]] = {}


def permission_ids(codenames: tuple[str, ...]) -> list[int]:
    found = _permission_ids.get(codenames)
    if found is None:
        found = sorted(Permission.objects.filter(
            content_type__app_label="catalog", codename__in=codenames
        ).values_list("pk", flat=True))
        _permission_ids[codenames] = found
    return found


def forget_permission_ids(**_kwargs) -> None:
    _permission_ids.clear()


def granted_asset_ids(user, action: str) -> models.QuerySet | None:
    """One subquery: the ids of the assets ``user`` holds a live grant for ``action`` on,
    directly or through a group. None when no grant can give this action."""
    codenames = PERMISSIONS_FOR_ACTION.get(action)
    if not codenames:
        return None
    permissions = permission_ids(codenames)
    direct = AssetUserGrant.objects.live().filter(
        user=user, permission_id__in=permissions
    ).values("content_object_id")
    through_group = AssetGroupGrant.objects.live().filter(
        group_id__in=Group.user_set.through.objects.filter(user_id=user.pk).values("group_id"),
        permission_id__in=permissions,
    ).values("content_object_id")
    return direct.union(through_group, all=True)
