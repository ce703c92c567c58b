"""Granting and revoking explicit permissions on an asset. Pages, administration and jobs
call these; each re-checks that the actor may grant on the asset, runs in one transaction,
and is recorded in the audit trail (through the models' signals) with actor and reason."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.models import User
from accounts.scoping import Action, holds_role
from catalog.history import ledger_context
from catalog.models import DataAsset

from .models import GRANTABLE_PERMISSIONS, AssetGroupGrant, AssetUserGrant


def _grantable_asset(actor, asset_id: int) -> DataAsset:
    asset = DataAsset.objects.restrict(actor, Action.GRANT).filter(pk=asset_id).first()
    if asset is None:
        raise PermissionDenied(_("You may not manage access to this asset."))
    return asset


def grant(
    asset_id: int, grantee: User | Group, codename: str, *, expires_at: datetime | None,
    reason: str, actor,
) -> AssetUserGrant | AssetGroupGrant:
    """Give ``grantee`` the permission ``codename`` on the asset, or renew the grant it
    already holds with the new expiry and reason."""
    if codename not in GRANTABLE_PERMISSIONS:
        raise ValidationError(_("This permission cannot be granted."))
    if not reason.strip():
        raise ValidationError(_("Say why this access is granted."))
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError(_("The end of the grant must lie in the future."))
    if isinstance(grantee, User) and not grantee.is_active:
        raise ValidationError(_("This account is deactivated."))
    if (isinstance(grantee, User) and codename == "change_dataasset"
            and holds_role(grantee, Role.AUDITOR)):
        raise ValidationError(_("An auditor changes nothing: grant viewing only."))
    with transaction.atomic(), ledger_context(actor=actor, reason=reason):
        asset = _grantable_asset(actor, asset_id)
        permission = Permission.objects.get(
            content_type__app_label="catalog", codename=codename
        )
        model, who = (
            (AssetUserGrant, {"user": grantee}) if isinstance(grantee, User)
            else (AssetGroupGrant, {"group": grantee})
        )
        found = model.objects.select_for_update().filter(
            content_object=asset, permission=permission, **who
        ).first()
        if found is None:
            found = model(content_object=asset, permission=permission, **who)
        found.expires_at = expires_at
        found.reason = reason.strip()
        found.granted_by = actor
        found.granted_at = timezone.now()
        found.save()
    return found


def revoke(grant_row: AssetUserGrant | AssetGroupGrant, *, reason: str, actor) -> None:
    """Withdraw an explicit grant."""
    if not reason.strip():
        raise ValidationError(_("Say why this access is revoked."))
    with transaction.atomic(), ledger_context(actor=actor, reason=reason.strip()):
        _grantable_asset(actor, grant_row.content_object_id)
        grant_row.delete()
