"""``user.has_perm(perm, asset)`` answered by the one scoping rule."""

from __future__ import annotations

from django.contrib.auth.backends import BaseBackend

from accounts.scoping import Action

# Object permissions this backend answers, and the action of the scoping rule each means.
ACTION_FOR_PERMISSION = {
    "catalog.view_dataasset": Action.VIEW,
    "catalog.change_dataasset": Action.CHANGE,
}


class AssetPermissionBackend(BaseBackend):
    def has_perm(self, user_obj, perm: str, obj=None) -> bool:
        from catalog.models import DataAsset

        action = ACTION_FOR_PERMISSION.get(perm)
        if action is None or not isinstance(obj, DataAsset) or obj.pk is None:
            return False
        return DataAsset.objects.restrict(user_obj, action).filter(pk=obj.pk).exists()
