from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import Institution, Membership, Region, User
from .scoping import Action


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["institution"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("Contact"), {"fields": ("full_name", "phone")}),
    )
    list_display = ("username", "full_name", "email", "is_staff", "is_active")
    search_fields = ("username", "full_name", "email")
    inlines = [MembershipInline]


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Institution)
class InstitutionAdmin(admin.ModelAdmin):
    list_display = ("name", "type", "region", "credit_code", "is_active")
    list_filter = ("type", "is_active")
    search_fields = ("name", "credit_code")
    autocomplete_fields = ["region", "parent"]
    list_select_related = ("region",)
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).restrict(request.user, Action.VIEW)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "institution", "role", "is_active")
    list_filter = ("role", "is_active")
    autocomplete_fields = ["user", "institution"]
    list_select_related = ("user", "institution")

    def get_queryset(self, request):
        managed = Institution.objects.restrict(request.user, Action.MANAGE_MEMBERS)
        return super().get_queryset(request).filter(institution__in=managed.values("pk"))
