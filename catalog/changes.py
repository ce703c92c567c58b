"""The asset page's change history: field-by-field differences between recorded versions."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models

from .fields import ChoiceListField
from .models import DataAsset

HIDDEN_FIELDS = {"version", "updated_at", "updated_by", "created_at", "created_by"}


@dataclass
class FieldChange:
    label: str
    old: str
    new: str


@dataclass
class ChangeEntry:
    when: object
    actor: object
    reason: str
    kind: str  # "+" created, "~" changed, "-" deleted
    version: int
    changes: list[FieldChange] = field(default_factory=list)


def _display(model_field: models.Field, value, related: dict) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(model_field, ChoiceListField):
        return "、".join(model_field.display(value))
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(model_field, models.ForeignKey):
        return str(related.get((model_field.related_model, value), value))
    if isinstance(model_field, models.BooleanField):
        from django.utils.translation import gettext

        return gettext("Yes") if value else gettext("No")
    return str(value)


def asset_changes(asset: DataAsset, *, limit: int = 200) -> list[ChangeEntry]:
    """The newest ``limit`` history entries of ``asset``, each with what it changed."""
    records = list(
        asset.history.select_related("history_user").order_by("-history_date", "-history_id")[
            : limit + 1
        ]
    )
    tracked = [
        f for f in DataAsset.history.model._meta.get_fields()
        if f.concrete and f.name in {g.name for g in DataAsset._meta.concrete_fields}
        and f.name not in HIDDEN_FIELDS and f.name != "id"
    ]
    fields = {f.name: DataAsset._meta.get_field(f.name) for f in tracked}
    related = _related_names(records, fields)
    entries = []
    for newer, older in zip(records, [*records[1:], None], strict=False):
        if len(entries) == limit:
            break
        entry = ChangeEntry(
            when=newer.history_date, actor=newer.history_user,
            reason=newer.history_change_reason or "", kind=newer.history_type,
            version=newer.version,
        )
        for model_field in fields.values():
            before = getattr(older, model_field.attname) if older else None
            after = getattr(newer, model_field.attname)
            if older is None and newer.history_type == "+":
                continue
            if before != after:
                entry.changes.append(FieldChange(
                    label=str(model_field.verbose_name),
                    old=_display(model_field, before, related),
                    new=_display(model_field, after, related),
                ))
        entries.append(entry)
    return entries


def _related_names(records, fields) -> dict:
    """Names of the related rows the records point to, one query per related model."""
    wanted: dict[type, set] = {}
    for model_field in fields.values():
        if isinstance(model_field, models.ForeignKey):
            ids = {getattr(r, model_field.attname) for r in records} - {None}
            wanted.setdefault(model_field.related_model, set()).update(ids)
    names = {}
    for model, ids in wanted.items():
        for obj in model._default_manager.filter(pk__in=ids):
            names[(model, obj.pk)] = str(obj)
    return names
