"""The asset page's change history: field-by-field differences between recorded versions
of the asset and of its data elements, newest first."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .fields import ChoiceListField
from .models import DataAsset, DataElement

HIDDEN_FIELDS = {"id", "version", "updated_at", "updated_by", "created_at", "created_by", "asset"}
# The responsible person's contact details are for signed-in users (as on the asset page):
# their changes are not shown to anyone else either.
PRIVATE_CONTACT_FIELDS = ("responsible_phone", "responsible_email")
PRIVATE_HISTORY_FIELDS = frozenset({*PRIVATE_CONTACT_FIELDS, "responsible_user"})


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
    version: int | None
    subject: str = ""  # empty for the asset itself, else e.g. "数据元 患者姓名"
    changes: list[FieldChange] = field(default_factory=list)


def asset_changes(
    asset: DataAsset, *, limit: int = 200, hidden: frozenset[str] = frozenset()
) -> list[ChangeEntry]:
    """The newest ``limit`` changes of ``asset`` and its data elements, without the changes
    of the ``hidden`` asset fields (``PRIVATE_HISTORY_FIELDS`` for anonymous readers)."""
    entries = _entries(
        DataAsset, asset.history.order_by("-history_date", "-history_id"), limit,
        group=lambda record: "asset", hidden=hidden,
    )
    element_records = DataElement.history.filter(asset_id=asset.pk).order_by(
        "-history_date", "-history_id"
    )
    entries += _entries(
        DataElement, element_records, limit, group=lambda record: record.id,
        subject=lambda record: _("Data element %(name)s") % {"name": record.name},
    )
    entries.sort(key=lambda entry: entry.when, reverse=True)
    return entries[:limit]


def _tracked_fields(model, hidden: frozenset[str] = frozenset()) -> list[models.Field]:
    history_names = {f.name for f in model.history.model._meta.get_fields()}
    return [
        f for f in model._meta.concrete_fields
        if f.name in history_names and f.name not in HIDDEN_FIELDS and f.name not in hidden
    ]


def _entries(model, records_qs, limit, *, group, subject=None,
             hidden: frozenset[str] = frozenset()) -> list[ChangeEntry]:
    """Diff each record against the previous record of the same object (``group``)."""
    records = list(records_qs.select_related("history_user")[: limit + 1])
    fields = _tracked_fields(model, hidden)
    related = _related_names(records, fields)
    previous: dict = {}
    # Walk oldest to newest so that each record meets the one before it.
    entries = []
    for record in reversed(records):
        key = group(record)
        older = previous.get(key)
        previous[key] = record
        if older is None and record.history_type != "+" and len(records) > limit:
            continue  # its predecessor fell outside the window: no honest diff
        entry = ChangeEntry(
            when=record.history_date, actor=record.history_user,
            reason=record.history_change_reason or "", kind=record.history_type,
            version=getattr(record, "version", None),
            subject=str(subject(record)) if subject else "",
        )
        if record.history_type == "~" and older is not None:
            for model_field in fields:
                before = getattr(older, model_field.attname)
                after = getattr(record, model_field.attname)
                if before != after:
                    entry.changes.append(FieldChange(
                        label=str(model_field.verbose_name),
                        old=_display(model_field, before, related),
                        new=_display(model_field, after, related),
                    ))
        entries.append(entry)
    return entries


def _display(model_field: models.Field, value, related: dict) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(model_field, ChoiceListField):
        return model_field.display_text(value)
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(model_field, models.ForeignKey):
        return str(related.get((model_field.related_model, value), value))
    if isinstance(model_field, models.BooleanField):
        return gettext("Yes") if value else gettext("No")
    return str(value)


def _related_names(records, fields) -> dict:
    """Names of the related rows the records point to, one query per related model."""
    wanted: dict[type, set] = {}
    for model_field in fields:
        if isinstance(model_field, models.ForeignKey):
            ids = {getattr(r, model_field.attname) for r in records} - {None}
            if ids:
                wanted.setdefault(model_field.related_model, set()).update(ids)
    names = {}
    for model, ids in wanted.items():
        for obj in model._default_manager.filter(pk__in=ids):
            names[(model, obj.pk)] = str(obj)
    return names
