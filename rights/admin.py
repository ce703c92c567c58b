from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import RightsAllocation


@admin.register(RightsAllocation)
class RightsAllocationAdmin(admin.ModelAdmin):
    """Read-only overview, scoped like the pages: the allocations over the assets the user
    may see. Rights are allocated, changed and ended on the asset's rights page, which
    checks the steward's jurisdiction and records why."""

    list_display = ("asset", "right", "party", "status", "valid_from", "valid_until")
    list_filter = ("right", "status", "party_kind")
    list_select_related = ("asset", "party_institution")
    search_fields = ("asset__code", "party_institution__name", "party_institution__credit_code")
    show_full_result_count = False

    @admin.display(description=_("party"), ordering="party_institution__name")
    def party(self, obj: RightsAllocation) -> str:
        return obj.party_name

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
