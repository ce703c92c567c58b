"""A PATCH of an asset, turned into what the edit page submits.

The API edits an asset through the edit page's form (:class:`catalog.forms.DataAssetForm`:
the same fields, checks and messages) and its service (:func:`catalog.services.update_asset`:
the version check, the permission re-check, history with actor and reason). This module only
translates JSON into the form's data: the fields the client leaves out keep their stored
values, exactly as an untouched field of the page does.
"""

from __future__ import annotations

import copy

from django.db import models
from django.utils.translation import gettext as _

from catalog.fields import ChoiceListField
from catalog.forms import EDITABLE_FIELDS, DataAssetForm
from catalog.models import CatalogClass, DataAsset

# The API's names for the form's two non-ledger fields.
VERSION = "version"
REASON = "reason"
FORM_NAMES = {REASON: "change_reason"}
API_NAMES = {"change_reason": REASON, "__all__": "non_field_errors"}


def _type_error(model_field: models.Field, value) -> str | None:
    """A message when ``value`` has the wrong JSON type for the field, else None."""
    if isinstance(model_field, models.BooleanField):
        return None if isinstance(value, bool) else _("Expected true or false.")
    if value is None:
        return None
    if isinstance(model_field, ChoiceListField):
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return None
        return _("Expected a list of codes.")
    if isinstance(model_field, models.IntegerField):
        is_int = isinstance(value, int) and not isinstance(value, bool)
        return None if is_int else _("Expected a whole number.")
    return None if isinstance(value, str) else _("Expected a string.")


def bind_form(asset: DataAsset, payload: dict) -> tuple[DataAssetForm | None, dict]:
    """The edit form bound to the stored values overlaid with ``payload``, or the errors
    that keep ``payload`` from reaching it (unknown fields, wrong JSON types)."""
    errors: dict[str, list[str]] = {}
    stored = DataAssetForm(instance=asset)
    data = {name: stored[name].value() for name in EDITABLE_FIELDS}
    for name, value in payload.items():
        if name == VERSION:
            if not (isinstance(value, int) and not isinstance(value, bool)):
                errors[name] = [_("Expected a whole number.")]
            data[VERSION] = value
            continue
        if name == REASON:
            if not isinstance(value, str):
                errors[name] = [_("Expected a string.")]
            data[FORM_NAMES[REASON]] = value
            continue
        if name not in EDITABLE_FIELDS:
            errors[name] = [_("This field cannot be changed through this operation.")]
            continue
        model_field = DataAsset._meta.get_field(name)
        if message := _type_error(model_field, value):
            errors[name] = [message]
            continue
        if name == "catalog_class" and value not in (None, ""):
            found = CatalogClass.objects.filter(code=value).values_list("pk", flat=True).first()
            if found is None:
                errors[name] = [_("No catalog class has this code.")]
                continue
            value = found
        data[name] = value
    if errors:
        return None, errors
    # The form validates on a copy, so the stored asset is untouched by a failed check.
    return DataAssetForm(data, instance=copy.copy(asset)), {}


def form_errors(form: DataAssetForm) -> dict[str, list[str]]:
    return {
        API_NAMES.get(name, name): [str(message) for message in messages]
        for name, messages in form.errors.items()
    }
