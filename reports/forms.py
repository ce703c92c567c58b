"""The report's filters: each narrows every figure at once; an invalid value is ignored."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.choices import InstitutionType
from catalog.choices import AssetStatus, DataCategory, SensitivityGrade, SharingType

FILTER_NAMES = ("region", "institution_type", "grade", "category", "sharing_type", "status")


def _choices(choices) -> list[tuple]:
    return [("", _("All")), *choices]


class ReportFilterForm(forms.Form):
    # A GB/T 2260 code: the drill-down (checked against the jurisdiction by the view).
    region = forms.RegexField(
        label=_("Region"), regex=r"^\d{6}$", required=False, widget=forms.HiddenInput
    )
    institution_type = forms.ChoiceField(
        label=_("Institution type"), choices=_choices(InstitutionType.choices), required=False
    )
    grade = forms.TypedChoiceField(
        label=_("Sensitivity grade"), choices=_choices(SensitivityGrade.choices), coerce=int,
        required=False, empty_value=None,
    )
    category = forms.ChoiceField(
        label=_("Data category"), choices=_choices(DataCategory.choices), required=False
    )
    sharing_type = forms.ChoiceField(
        label=_("Sharing type"), choices=_choices(SharingType.choices), required=False
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=_choices(AssetStatus.choices), required=False
    )

    def valid_filters(self) -> dict:
        """The filters whose values are valid (the others are dropped, not refused)."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {name: cleaned[name] for name in FILTER_NAMES if cleaned.get(name) not in (None, "")}

    def filter_labels(self, filters: dict) -> list[tuple[str, str]]:
        """The chosen filters other than the region as (label, value label), for readers."""
        labels = []
        for name in FILTER_NAMES:
            if name == "region" or name not in filters:
                continue
            field = self.fields[name]
            options = {str(value): label for value, label in field.choices}
            labels.append((str(field.label), str(options.get(str(filters[name]), filters[name]))))
        return labels
