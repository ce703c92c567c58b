"""The steward's edit form for a ledger row."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Region

from .models import DataAsset

EDITABLE_FIELDS = [
    "name", "name_en", "description", "catalog_class", "data_format",
    "source_system", "collection_method", "purposes",
    "storage_location", "stored_in_country",
    "record_count", "storage_bytes", "individual_count",
    "update_frequency", "last_data_update",
    "responsible_person", "responsible_phone", "responsible_email",
    "categories", "grade", "security_class",
    "sharing_type", "sharing_condition", "open_attribute",
    "contains_personal_info", "deidentification",
    "temporal_start", "temporal_end", "spatial_coverage",
]

# How the edit page groups the fields: the seven ledger dimensions and the rest.
FIELDSETS = [
    (_("Basic information"), ["name", "name_en", "description", "catalog_class", "data_format"]),
    (_("Source and purpose"), ["source_system", "collection_method", "purposes"]),
    (_("Location and volume"), [
        "storage_location", "stored_in_country", "record_count", "storage_bytes",
        "individual_count",
    ]),
    (_("Update frequency"), ["update_frequency", "last_data_update"]),
    (_("Responsible person"), ["responsible_person", "responsible_phone", "responsible_email"]),
    (_("Classification and sensitivity"), ["categories", "grade", "security_class"]),
    (_("Sharing and openness"), ["sharing_type", "sharing_condition", "open_attribute"]),
    (_("Personal information and coverage"), [
        "contains_personal_info", "deidentification", "temporal_start", "temporal_end",
        "spatial_coverage",
    ]),
]


class LedgerForm(forms.ModelForm):
    """The ledger fields of an asset as a form: the steward's edit form and the registry's
    application form share its fields, widgets and checks."""

    spatial_coverage = forms.ModelChoiceField(
        label=_("Spatial coverage"), queryset=Region.objects.all(), to_field_name="code",
        required=False, widget=forms.TextInput(attrs={"inputmode": "numeric", "maxlength": 6}),
        help_text=_("Six-digit administrative division code (GB/T 2260); empty means nationwide."),
        error_messages={"invalid_choice": _("No administrative division has this code.")},
    )

    class Meta:
        model = DataAsset
        fields = EDITABLE_FIELDS
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            # With seconds: a value rendered without them would come back changed.
            "last_data_update": forms.DateTimeInput(attrs={"type": "datetime-local", "step": 1},
                                                    format="%Y-%m-%dT%H:%M:%S"),
            "temporal_start": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "temporal_end": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "sharing_condition": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("record_count", "storage_bytes", "individual_count"):
            if name in self.fields:
                self.fields[name].widget.attrs["min"] = 0


class DataAssetForm(LedgerForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    change_reason = forms.CharField(
        label=_("Reason for this change"), max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept in the asset's history with your name and the time."),
    )

    class Meta(LedgerForm.Meta):
        pass

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["version"] = self.instance.version

    def fieldsets(self):
        for title, names in FIELDSETS:
            yield title, [self[name] for name in names]

    def changes(self) -> dict:
        """The fields the editor changed (an untouched field keeps its stored value exactly,
        e.g. a timestamp's microseconds, which the widget does not show)."""
        return {name: self.cleaned_data[name] for name in EDITABLE_FIELDS
                if name in self.changed_data}


def add_validation_error(form: forms.Form, error) -> None:
    """Show a ValidationError raised behind a form (a service, a model's clean) on the form:
    beside the fields it names, the rest above the form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)
