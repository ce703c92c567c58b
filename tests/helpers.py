"""Helpers for tests that post forms the way a browser does."""

from __future__ import annotations

from django import forms
from django.db.models import Model


def widget_data(bound_field) -> dict:
    """What a browser submits for one rendered form field, unchanged by the user."""
    widget = bound_field.field.widget
    while not isinstance(widget, forms.Widget) and hasattr(widget, "widget"):
        widget = widget.widget  # admin's RelatedFieldWidgetWrapper
    name, value = bound_field.html_name, bound_field.value()
    if isinstance(widget, forms.CheckboxInput):
        return {name: "on"} if value else {}
    if isinstance(widget, forms.MultiWidget):
        context = widget.get_context(name, value, {})["widget"]
        return {sub["name"]: sub["value"] or "" for sub in context["subwidgets"]}
    if getattr(widget, "allow_multiple_selected", False):
        return {name: [str(v) for v in (value or [])]}
    formatted = widget.format_value(value)
    if isinstance(formatted, list):
        formatted = formatted[0] if formatted else ""
    if isinstance(formatted, Model):
        formatted = formatted.pk
    return {name: "" if formatted is None else str(formatted)}


def form_data(form, **overrides) -> dict:
    """The POST data of ``form`` as rendered (initial values), with ``overrides`` applied."""
    data: dict = {}
    for bound_field in form:
        data.update(widget_data(bound_field))
    data.update(overrides)
    return data


def formset_data(formset) -> dict:
    data = {}
    for key, value in formset.management_form.initial.items():
        data[f"{formset.prefix}-{key}"] = value
    for form in formset.forms:
        data.update(form_data(form))
    return data


def reseed() -> None:
    """Put back the rows the migrations seed (regions, catalog classes): pytest-django
    empties every table after a transactional test, seeded rows included."""
    import importlib
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    from accounts.models import Region
    from catalog.models import CatalogClass

    editor = SimpleNamespace(connection=connection)
    if not Region.objects.exists():
        importlib.import_module("accounts.migrations.0002_seed_regions").seed_regions(
            apps, editor)
    if not CatalogClass.objects.exists():
        importlib.import_module(
            "catalog.migrations.0002_postgres_indexes_and_classes").seed_classes(apps, editor)
