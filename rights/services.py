"""Allocating, changing and ending rights over an asset. Pages, administration and jobs call
these; each runs in one transaction, re-checks that the actor may allocate on the asset, and
leaves a history record with the actor and the reason. Allocations are never deleted."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.scoping import Action
from catalog.history import ledger_context
from catalog.models import DataAsset

from .choices import AllocationStatus
from .models import EDITABLE_FIELDS, RightsAllocation


def allocate(
    asset: DataAsset, data: Mapping, actor, *, reason: str = ""
) -> RightsAllocation:
    """Give the right described by ``data`` (field values, e.g. a form's cleaned data) over
    ``asset``. Raises PermissionDenied, or ValidationError when it breaks a rule."""
    values = _values(data)
    _refuse_ending(values)
    with transaction.atomic(), ledger_context(actor=actor, reason=reason.strip()):
        locked = _allocatable_asset(actor, asset.pk)
        allocation = RightsAllocation(asset=locked, created_by=actor, **values)
        allocation.full_clean()
        allocation.save()
    return allocation


def change_allocation(
    allocation: RightsAllocation, data: Mapping, actor, *, reason: str
) -> tuple[RightsAllocation, list[str]]:
    """Apply ``data`` to an allocation that has not ended. Returns it with the names of the
    fields that really changed (none: nothing is written)."""
    if not reason.strip():
        raise ValidationError(_("Say why the allocation is changed."))
    values = _values(data)
    _refuse_ending(values)
    with transaction.atomic(), ledger_context(actor=actor, reason=reason.strip()):
        locked = _allocatable_asset(actor, allocation.asset_id)
        current = RightsAllocation.objects.select_for_update().get(pk=allocation.pk)
        if current.is_ended:
            raise ValidationError(_("This allocation has ended and can no longer be changed: "
                                    "allocate the right anew."))
        current.asset = locked
        changed = [name for name, value in values.items() if _stored(current, name) != _key(value)]
        if not changed:
            return current, []
        for name in changed:
            setattr(current, name, values[name])
        current.full_clean()
        current.save()
    return current, changed


def end_allocation(allocation: RightsAllocation, actor, reason: str) -> RightsAllocation:
    """End an allocation: it stays on record, ended, with an end date no later than today.

    The allocation rules are not re-checked: ending is how a wrong allocation is put right.
    """
    if not reason.strip():
        raise ValidationError(_("Say why the allocation ends."))
    with transaction.atomic(), ledger_context(actor=actor, reason=reason.strip()):
        _allocatable_asset(actor, allocation.asset_id)
        current = RightsAllocation.objects.select_for_update().get(pk=allocation.pk)
        if current.is_ended:
            raise ValidationError(_("This allocation has already ended."))
        today = timezone.localdate()
        current.status = AllocationStatus.ENDED
        if current.valid_until is None or current.valid_until > today:
            # Ended early, or never given an end: it ends today (or when it would have begun).
            current.valid_until = max(today, current.valid_from)
        current.save(update_fields=["status", "valid_until", "updated_at"])
    return current


def _allocatable_asset(actor, asset_id: int) -> DataAsset:
    """The asset, locked against a concurrent change of its holder or grade (on which the
    rules depend), if ``actor`` may allocate rights over it."""
    asset = DataAsset.objects.select_for_update().filter(pk=asset_id).first()
    if asset is None or not DataAsset.objects.restrict(actor, Action.ALLOCATE).filter(
        pk=asset_id
    ).exists():
        raise PermissionDenied(_("You may not allocate rights over this asset."))
    return asset


def _values(data: Mapping) -> dict:
    values = {name: data[name] for name in EDITABLE_FIELDS if name in data}
    for name in ("party_description", "legal_basis", "purpose", "scope"):
        if name in values:
            values[name] = (values[name] or "").strip()
    return values


def _refuse_ending(values: dict) -> None:
    if values.get("status") == AllocationStatus.ENDED:
        raise ValidationError({"status": [_("End an allocation with its End action, which "
                                            "records why.")]})


def _stored(allocation: RightsAllocation, name: str):
    if name == "party_institution":
        return allocation.party_institution_id
    return getattr(allocation, name)


def _key(value):
    return getattr(value, "pk", value)
