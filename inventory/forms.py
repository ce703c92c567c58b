"""Forms of the run and finding pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import FindingRule, FindingStatus, RunKind, Severity

NATIONWIDE = "all"


class StartRunForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=RunKind.choices)
    scope = forms.ChoiceField(label=_("Jurisdiction"))

    def __init__(self, *args, scopes=(), **kwargs):
        super().__init__(*args, **kwargs)
        # The whole country needs a value of its own: an empty one reads as "not chosen".
        self.scopes = {(region.code if region else NATIONWIDE): region for region in scopes}
        self.fields["scope"].choices = [
            (code, region.full_name if region else _("Nationwide"))
            for code, region in self.scopes.items()
        ]

    def clean_scope(self):
        return self.scopes[self.cleaned_data["scope"]]


class FindingFilterForm(forms.Form):
    """The filters of the findings list; an unknown value is ignored, never an error page."""

    rule = forms.ChoiceField(label=_("Finding"), required=False,
                             choices=[("", _("All findings"))] + FindingRule.choices)
    severity = forms.TypedChoiceField(
        label=_("Severity"), required=False, coerce=int, empty_value=None,
        choices=[("", _("Any severity"))] + Severity.choices,
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False,
        choices=[("", _("Not yet resolved")), ("all", _("Any status"))] + FindingStatus.choices,
    )
    run = forms.IntegerField(required=False, widget=forms.HiddenInput)
    new = forms.BooleanField(required=False, widget=forms.HiddenInput)
    institution = forms.IntegerField(required=False, widget=forms.HiddenInput)


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Answer"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What was done about it, or why the ledger is right as it is."),
    )


class CloseForm(forms.Form):
    note = forms.CharField(
        label=_("Why it is closed"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}),
    )
