"""The steward's forms for allocating, changing and ending a right over an asset.

The allocation rules are checked once, by the model's ``clean()`` (``rules.allocation_errors``),
which the model form runs: each message lands beside the field it concerns.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.choices import InstitutionType
from accounts.models import Institution
from catalog.models import DataAsset

from .choices import AllocationStatus, PartyKind
from .models import EDITABLE_FIELDS, RightsAllocation

# How many institutions the form suggests (the holder and nearby public-health agencies).
MAX_SUGGESTIONS = 50


class InstitutionCodeField(forms.ModelChoiceField):
    """An active institution, named by its unified social credit code (or its id).

    A text box rather than a select: a select of every institution cannot be rendered at a
    million rows, and one limited to the asset's province would refuse rights that rightly go
    further (the national CDC, another province's agency, a research institute). The credit
    code is unique and indexed, so checking the input is one lookup whatever the table's size;
    the form suggests the likely receivers (see :meth:`AllocationForm.suggestions`).
    """

    widget = forms.TextInput
    default_error_messages = {
        "invalid_choice": _("No active institution has this unified social credit code."),
    }

    def __init__(self, **kwargs):
        super().__init__(queryset=Institution.objects.filter(is_active=True), **kwargs)

    def prepare_value(self, value):
        if isinstance(value, Institution):
            return value.credit_code
        return value

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip().upper()
        if not (text.isascii() and text.isalnum()):
            # No code or id has other characters ("²" is a digit to isdigit(), not to int()).
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        # An 18-character code may be all digits; a shorter number is an id.
        lookup = {"pk": int(text)} if text.isdigit() and len(text) < 18 else {"credit_code": text}
        found = self.queryset.filter(**lookup).first()
        if found is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return found


class AllocationForm(forms.ModelForm):
    party_institution = InstitutionCodeField(
        label=_("Institution"), required=False,
        help_text=_("Its unified social credit code. Leave empty for data subjects."),
    )
    change_reason = forms.CharField(
        label=_("Reason for this change"), max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept in the allocation's history with your name and the time."),
    )

    class Meta:
        model = RightsAllocation
        fields = list(EDITABLE_FIELDS)
        widgets = {
            "party_kind": forms.RadioSelect,
            "legal_basis": forms.Textarea(attrs={"rows": 2}),
            "purpose": forms.Textarea(attrs={"rows": 2}),
            "scope": forms.Textarea(attrs={"rows": 2}),
            "valid_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "valid_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, asset: DataAsset, **kwargs):
        super().__init__(*args, **kwargs)
        # The rules need the asset (its holder and grade): set before validation.
        self.instance.asset = asset
        self.asset = asset
        self.fields["party_kind"].choices = PartyKind.choices  # radio buttons: no blank
        # Ending has its own action, with a reason and an end date: not a status to pick.
        self.fields["status"].choices = [
            choice for choice in AllocationStatus.choices if choice[0] != AllocationStatus.ENDED
        ]
        self.fields["party_institution"].widget.attrs.update(
            {"list": "institution-suggestions", "autocomplete": "off", "spellcheck": "false"})
        if self.instance.party_institution_id and not self.is_bound:
            self.initial["party_institution"] = self.instance.party_institution.credit_code
        if not self.instance.pk:
            self.initial.setdefault("party_kind", PartyKind.INSTITUTION)
            self.initial.setdefault("valid_from", timezone.localdate())
            # A new allocation needs no reason beyond its legal basis.
            self.fields["change_reason"].required = False
            self.fields["change_reason"].label = _("Note for the history")

    def add_error(self, field, error) -> None:
        # A field that failed its own check is left empty on the instance; what the model's
        # clean() then says of it ("choose the institution") would only repeat the first
        # message less precisely.
        if field is None and hasattr(error, "error_dict") and self._errors:
            error = ValidationError({
                name: messages for name, messages in error.error_dict.items()
                if name not in self._errors
            })
        super().add_error(field, error)

    def suggestions(self) -> list[Institution]:
        """The likely receivers, for the institution box: the holder, and the active
        public-health agencies of the asset's province and of the country (one query)."""
        asset = self.asset
        national = Q(region__isnull=True) | Q(
            parent__type=InstitutionType.HEALTH_COMMISSION, parent__region__isnull=True)
        nearby = Q(pk=asset.holder_id) | (Q(type=InstitutionType.CDC) & national)
        if asset.region_province_id:
            nearby |= Q(type=InstitutionType.CDC, region__province=asset.region_province_id)
        return list(
            Institution.objects.filter(nearby, is_active=True)
            .only("name", "credit_code").order_by("name")[:MAX_SUGGESTIONS]
        )


class EndAllocationForm(forms.Form):
    reason = forms.CharField(
        label=_("Why the allocation ends"), max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept in the allocation's history. Without an end date, it ends today."),
    )
