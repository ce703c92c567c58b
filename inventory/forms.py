"""Forms of the run and finding pages (the findings list's filters: ``filtersets``)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import RunKind

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


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Answer"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What was done about it, or why the ledger is right as it is."),
    )


class CloseForm(forms.Form):
    note = forms.CharField(
        label=_("Why it is closed"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}),
    )
