"""Operations that change the catalog. Views, admin and jobs call these; each runs in one
transaction, leaves a history entry with actor and reason, and re-checks permission."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from .history import ledger_context
from .models import DataAsset


class StaleVersionError(Exception):
    """The asset changed since the editor loaded it; nothing was written."""

    def __init__(self, current: DataAsset):
        super().__init__(f"asset {current.pk} is at version {current.version}")
        self.current = current


def update_asset(
    asset_id: int, changes: dict, *, expected_version: int, actor, reason: str
) -> tuple[DataAsset, list[str]]:
    """Apply ``changes`` to the asset if it is still at ``expected_version``.

    Returns the asset and the names of the fields that really changed (none: nothing is
    written). Raises DataAsset.DoesNotExist when the actor may not edit it,
    StaleVersionError when someone else saved first, ValidationError on bad values, and
    PermissionDenied when the change would move the asset out of the actor's reach.
    """
    with transaction.atomic():
        asset = DataAsset.objects.editable_by(actor).select_for_update().get(pk=asset_id)
        if asset.version != expected_version:
            raise StaleVersionError(asset)
        changed = [name for name, value in changes.items() if getattr(asset, name) != value]
        if not changed:
            return asset, []
        for name in changed:
            setattr(asset, name, changes[name])
        asset.full_clean()
        with ledger_context(actor=actor, reason=reason):
            asset.save()
        if not DataAsset.objects.editable_by(actor).filter(pk=asset.pk).exists():
            raise PermissionDenied(_("This change would move the asset out of your reach."))
    return asset, changed
