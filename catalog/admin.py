"""Administration for stewards: the same scoping rule and history as the pages."""

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .history import ledger_context
from .models import CatalogClass, DataAsset, DataElement


@admin.register(CatalogClass)
class CatalogClassAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "parent")
    search_fields = ("code", "name", "name_en")


class DataElementInline(admin.TabularInline):
    model = DataElement
    extra = 0


class DataAssetAdminForm(forms.ModelForm):
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = DataAsset
        exclude: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["expected_version"] = self.instance.version

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk:
            current = DataAsset.objects.filter(pk=self.instance.pk).values_list(
                "version", flat=True
            ).first()
            if cleaned.get("expected_version") != current:
                raise ValidationError(_(
                    "Someone else saved this asset after you opened it. Nothing was saved; "
                    "reload the page and make your change again."
                ))
        return cleaned


@admin.register(DataAsset)
class DataAssetAdmin(SimpleHistoryAdmin):
    form = DataAssetAdminForm
    list_display = ("code", "name", "holder", "grade", "sharing_type", "status", "updated_at")
    list_filter = ("status", "grade", "sharing_type", "update_frequency")
    search_fields = ("code", "name")
    autocomplete_fields = ["holder", "catalog_class", "spatial_coverage", "responsible_user"]
    list_select_related = ("holder",)
    show_full_result_count = False
    inlines = [DataElementInline]
    readonly_fields = ("version", "registration_number", "registered_at")

    def get_queryset(self, request):
        return DataAsset.objects.visible_to(request.user)

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return super().has_change_permission(request)
        return (
            super().has_change_permission(request, obj)
            and DataAsset.objects.editable_by(request.user).filter(pk=obj.pk).exists()
        )

    def has_delete_permission(self, request, obj=None):
        return False  # assets are deregistered, never deleted

    def save_model(self, request, obj, form, change):
        with ledger_context(actor=request.user, reason=str(_("Edited in administration"))):
            super().save_model(request, obj, form, change)
        # Save, then verify inside the admin's transaction: no edit (e.g. of the holder) may
        # move an asset out of the editor's reach.
        if not DataAsset.objects.editable_by(request.user).filter(pk=obj.pk).exists():
            raise PermissionDenied

    def history_view(self, request, object_id, extra_context=None):
        # simple-history falls back to the newest history row of an object outside
        # get_queryset(): an asset out of scope must answer 404 here too.
        if self.get_object(request, unquote(object_id)) is None:
            raise Http404
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # simple-history reads the historical row without scoping, and saves the posted form
        # even when revert is disabled.
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        if request.method == "POST" and (
            self.revert_disabled(request, obj) or not self.has_change_permission(request, obj)
        ):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def save_formset(self, request, form, formset, change):
        with ledger_context(actor=request.user, reason=str(_("Edited in administration"))):
            super().save_formset(request, form, formset, change)
