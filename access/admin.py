from django.contrib import admin

from accounts.scoping import Action
from catalog.models import DataAsset

from .models import AssetGroupGrant, AssetUserGrant


class GrantAdmin(admin.ModelAdmin):
    """Read-only overview; grants are given and revoked on the asset's access page, which
    checks the granter's jurisdiction."""

    list_display = ("content_object", "permission", "expires_at", "granted_by", "granted_at")
    list_select_related = ("content_object", "permission", "granted_by")
    show_full_result_count = False

    def get_queryset(self, request):
        granted = DataAsset.objects.restrict(request.user, Action.GRANT).values("pk")
        return super().get_queryset(request).filter(content_object__in=granted)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AssetUserGrant)
class AssetUserGrantAdmin(GrantAdmin):
    list_display = ("user", *GrantAdmin.list_display)
    search_fields = ("user__username", "content_object__code")


@admin.register(AssetGroupGrant)
class AssetGroupGrantAdmin(GrantAdmin):
    list_display = ("group", *GrantAdmin.list_display)
    search_fields = ("group__name", "content_object__code")
