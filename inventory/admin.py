from django.contrib import admin

from .models import Finding, Run


class ReadOnlyScopedAdmin(admin.ModelAdmin):
    """Read-only overview through the scoping rule; runs are started, and findings answered
    and closed, on the inventory pages, which check the user's reach."""

    show_full_result_count = False

    def get_queryset(self, request):
        return self.model.objects.restrict(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Run)
class RunAdmin(ReadOnlyScopedAdmin):
    list_display = ("created_at", "kind", "scope", "status", "assets_total", "started_by")
    list_filter = ("kind", "status")
    list_select_related = ("scope", "started_by")


@admin.register(Finding)
class FindingAdmin(ReadOnlyScopedAdmin):
    list_display = ("rule", "severity", "asset", "institution", "status", "last_seen_at")
    list_filter = ("rule", "severity", "status")
    list_select_related = ("asset", "institution")
    search_fields = ("asset__code",)
