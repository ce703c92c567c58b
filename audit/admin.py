from django.contrib import admin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the trail is written by the product, never edited."""

    list_display = ("occurred_at", "actor_name", "action", "target_repr", "reason")
    list_filter = ("action",)
    search_fields = ("actor_name", "target_repr", "reason")
    show_full_result_count = False

    def get_queryset(self, request):
        return AuditEvent.objects.visible_to(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
