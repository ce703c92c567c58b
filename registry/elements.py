"""The data elements a registration proposes: a formset in the form, a list in the payload,
rows of DataElement once approved."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _

from catalog.models import DataAsset, DataElement

ELEMENT_FIELDS = ["name", "name_en", "data_type", "standard_identifier", "is_personal",
                  "description"]


class ElementForm(forms.ModelForm):
    class Meta:
        model = DataElement
        fields = ELEMENT_FIELDS


ElementFormSet = forms.formset_factory(ElementForm, extra=2, can_delete=True)


def formset(data=None, *, stored: list[dict] | None = None) -> forms.BaseFormSet:
    if data is not None:
        return ElementFormSet(data, prefix="elements")
    return ElementFormSet(initial=stored or [], prefix="elements")


def stored_from(bound: forms.BaseFormSet) -> list[dict]:
    """The filled, not deleted rows of a posted formset, as stored form data."""
    rows = []
    for form in bound.forms:
        if not form.has_changed() or form.data.get(f"{form.prefix}-DELETE"):
            continue
        rows.append({
            name: ("on" if form.data.get(f"{form.prefix}-{name}") else "")
            if name == "is_personal" else form.data.get(f"{form.prefix}-{name}", "")
            for name in ELEMENT_FIELDS
        })
    return rows


def errors(stored: list[dict]) -> list[str]:
    """Every problem of the stored elements, each naming its row."""
    found = []
    for number, row in enumerate(stored, start=1):
        form = ElementForm(data=row)
        if not form.is_valid():
            for field, messages in form.errors.items():
                label = form.fields[field].label if field in form.fields else ""
                found += [_("Data element %(n)d, %(field)s: %(message)s") % {
                    "n": number, "field": label, "message": message} for message in messages]
    return found


def create(asset: DataAsset, stored: list[dict]) -> None:
    for position, row in enumerate(stored, start=1):
        form = ElementForm(data=row)
        form.is_valid()
        element = form.save(commit=False)
        element.asset = asset
        element.position = position
        element.save()
