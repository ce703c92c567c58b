"""The ledger values of an application: kept as the form data the registrar entered, checked
by the same form and model rules as the steward's edit, compared with the asset field by
field for a change.

A change application keeps two snapshots of form data: ``base`` (the asset's values when the
application was made or last refreshed) and ``payload`` (what the applicant proposes). The
proposed change is where they differ — so a field someone else changed meanwhile is never
put back by approving an application that did not touch it.
"""

from __future__ import annotations

import copy
import datetime
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from catalog.forms import EDITABLE_FIELDS, FIELDSETS, LedgerForm
from catalog.models import DataAsset
from catalog.rules import minimum_grade

from .choices import ApplicationKind

REGISTER_FIELDS = ["code", *EDITABLE_FIELDS]
CHANGE_FIELDS = EDITABLE_FIELDS

# The steps of the registration form, each a group of ledger fields.
STEPS = [
    ("basic", gettext_lazy("Basic information"),
     ["code", "name", "name_en", "description", "catalog_class", "data_format"]),
    ("ledger", gettext_lazy("Ledger dimensions"),
     [name for title, names in FIELDSETS[1:5] for name in names]),
    ("classification", gettext_lazy("Classification and grade"),
     ["categories", "grade", "security_class"]),
    ("elements", gettext_lazy("Data elements"), []),
    ("sharing", gettext_lazy("Sharing"),
     ["sharing_type", "sharing_condition", "open_attribute", "contains_personal_info",
      "deidentification", "temporal_start", "temporal_end", "spatial_coverage"]),
]


class ApplicationLedgerForm(LedgerForm):
    """The ledger fields an application proposes, validated as the catalog would."""

    class Meta(LedgerForm.Meta):
        fields = REGISTER_FIELDS

    def __init__(self, *args, kind: str = ApplicationKind.REGISTER, grade_reason: str = "",
                 **kwargs):
        super().__init__(*args, **kwargs)
        if kind != ApplicationKind.REGISTER:
            del self.fields["code"]  # an asset's code never changes
        self.grade_reason = grade_reason.strip()

    def clean(self):
        cleaned = super().clean()
        categories, grade = cleaned.get("categories"), cleaned.get("grade")
        if categories and grade and grade < minimum_grade(categories) and not self.grade_reason:
            self.add_error("grade", _(
                "Its data categories suggest at least grade %(suggested)d. State why a lower "
                "grade fits, or raise it."
            ) % {"suggested": minimum_grade(categories)})
        return cleaned


def form_for(kind: str, institution, *, asset: DataAsset | None, data: dict,
             grade_reason: str = "") -> ApplicationLedgerForm:
    """The ledger form of an application, bound to ``data`` (form data, as stored)."""
    if kind == ApplicationKind.REGISTER:
        instance = DataAsset(holder=institution)
    else:
        instance = copy.copy(asset)  # validate on a copy: the stored asset stays as it is
    return ApplicationLedgerForm(data=data, instance=instance, kind=kind,
                                 grade_reason=grade_reason)


def form_data_of(asset: DataAsset) -> dict:
    """The asset's ledger values as form data (what the form would post unchanged)."""
    form = ApplicationLedgerForm(instance=asset, kind=ApplicationKind.CHANGE)
    return {name: _as_data(form[name].value()) for name in form.fields}


def proposed_changes(base: dict, payload: dict) -> dict:
    """The fields a change application changes: where its payload differs from its base."""
    return {name: payload.get(name) for name in CHANGE_FIELDS
            if _normal(payload.get(name)) != _normal(base.get(name))}


def rebased(base: dict, payload: dict, current: dict) -> dict:
    """The payload carried onto the asset's current values: the applicant's own changes
    over everything else as it is now."""
    return {**current, **proposed_changes(base, payload)}


def _as_data(value):
    if isinstance(value, datetime.datetime):
        # As the datetime-local widget posts it: local wall time.
        if timezone.is_aware(value):
            value = timezone.localtime(value).replace(tzinfo=None)
        return value.isoformat(timespec="seconds")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return "" if value is None else str(value)


def _normal(value):
    if isinstance(value, list | tuple):
        return sorted(str(item) for item in value)
    if value in (None, False):
        return ""
    return str(value).strip()


def step_fields(kind: str) -> list[tuple[str, str, list[str]]]:
    """The steps and their fields for an application of ``kind``."""
    allowed = set(REGISTER_FIELDS if kind == ApplicationKind.REGISTER else CHANGE_FIELDS)
    return [(key, title, [name for name in names if name in allowed])
            for key, title, names in STEPS]


# Fields a form always posts (an unchecked box posts nothing): keep them in stored data.
def normalise(data) -> dict:
    """Form data as stored: one value per field, lists for the multiple choices."""
    stored = {}
    for name in REGISTER_FIELDS:
        field = ApplicationLedgerForm.base_fields.get(name)
        if field is None:
            continue
        if isinstance(field.widget, forms.CheckboxSelectMultiple | forms.SelectMultiple):
            stored[name] = list(data.getlist(name)) if hasattr(data, "getlist") else list(
                data.get(name) or [])
        else:
            stored[name] = data.get(name, "")
    return stored


def normalise_step(data, names: list[str]) -> dict:
    """The posted values of one step's fields, as stored (an unchecked box posts nothing)."""
    stored = normalise(data)
    return {name: stored.get(name, "") for name in names}


def display(name: str, value) -> str:
    """A stored form value as the user reads it: choice labels, not codes."""
    field = ApplicationLedgerForm.base_fields.get(name)
    if field is None:
        return str(value or "")
    choices = dict((str(k), str(v)) for k, v in getattr(field, "choices", []) or [] if k != "")
    if isinstance(value, list | tuple):
        return pgettext("list separator", ", ").join(choices.get(str(v), str(v)) for v in value) \
            or "—"
    if isinstance(field, forms.BooleanField):
        return _("Yes") if value else _("No")
    if name == "catalog_class" and value:
        from catalog.models import CatalogClass

        found = CatalogClass.objects.filter(pk=value).first()
        return str(found) if found else str(value)
    return choices.get(str(value), str(value)) if value not in (None, "") else "—"


def label(name: str) -> str:
    field = ApplicationLedgerForm.base_fields.get(name)
    return str(field.label) if field else name


def difference(base: dict, payload: dict) -> list[tuple[str, str, str]]:
    """(label, current, proposed) for each field a change application changes."""
    return [(label(name), display(name, base.get(name)), display(name, value))
            for name, value in proposed_changes(base, payload).items()]
