"""The steward's form for a recurring run: kind, jurisdiction, crontab fields, on or off."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import RunKind
from .schedules import CRON_FIELDS, DEFAULT_TIMING, clean_cron_field, clean_crontab


class ScheduleForm(forms.Form):
    """A new schedule chooses its kind and jurisdiction; an existing one keeps them (the
    form then has only the timing and the switch)."""

    kind = forms.ChoiceField(label=_("Kind"), choices=RunKind.choices)
    scope = forms.ChoiceField(label=_("Jurisdiction"))
    enabled = forms.BooleanField(
        label=_("Enabled"), required=False, initial=True,
        help_text=_("Off: the schedule is kept but starts no run."),
    )

    def __init__(self, *args, scopes=(), schedule=None, **kwargs):
        super().__init__(*args, **kwargs)
        for field in CRON_FIELDS:
            self.fields[field.name] = forms.CharField(
                label=field.label, max_length=240,
                help_text=_("0 is Sunday, 1 Monday … 6 Saturday.")
                if field.name == "day_of_week" else f"{field.low}–{field.high}",
                widget=forms.TextInput(attrs={"size": 8, "autocomplete": "off",
                                              "spellcheck": "false"}),
            )
        # The switch last, after the timing.
        self.fields["enabled"] = self.fields.pop("enabled")
        if schedule is not None:
            del self.fields["kind"], self.fields["scope"]
            self.scopes = {}
            return
        self.scopes = {(region.code if region else ""): region for region in scopes}
        self.fields["scope"].choices = [
            (code, region.full_name if region else _("Nationwide"))
            for code, region in self.scopes.items()
        ]
        if not self.is_bound:
            kind = self.initial.get("kind") or RunKind.INVENTORY
            for name, value in DEFAULT_TIMING[kind].items():
                self.fields[name].initial = value

    def clean_scope(self):
        return self.scopes[self.cleaned_data["scope"]]

    def clean(self):
        cleaned = super().clean()
        for field in CRON_FIELDS:
            if field.name in cleaned:
                try:
                    cleaned[field.name] = clean_cron_field(field.name, cleaned[field.name])
                except forms.ValidationError as error:
                    self.add_error(field.name, error)
        names = [field.name for field in CRON_FIELDS]
        if all(name in cleaned for name in names):
            try:
                clean_crontab(**{name: cleaned[name] for name in names})
            except forms.ValidationError as error:
                self.add_error(None, error)
        return cleaned

    @property
    def timing(self) -> dict[str, str]:
        return {field.name: self.cleaned_data[field.name] for field in CRON_FIELDS}
