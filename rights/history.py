"""The history of an asset's allocations: who changed what, when and why, read from
simple-history's records in two queries whatever their number."""

from __future__ import annotations

from collections import defaultdict

from django.db import models

from accounts.models import Institution
from catalog.changes import ChangeEntry, FieldChange
from catalog.models import DataAsset

from .models import EDITABLE_FIELDS, RightsAllocation

# Records read per asset page; an older record beyond it is left out, not misdiffed.
HISTORY_LIMIT = 500


def allocation_histories(
    asset: DataAsset, *, limit: int = HISTORY_LIMIT
) -> dict[int, list[ChangeEntry]]:
    """Each allocation's history (by allocation id), newest first, with the fields each
    change altered."""
    records = list(
        RightsAllocation.history.filter(asset_id=asset.pk)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")[: limit + 1]
    )
    truncated = len(records) > limit
    records = records[:limit]
    fields = [RightsAllocation._meta.get_field(name) for name in EDITABLE_FIELDS]
    names = _institution_names(records)
    previous: dict[int, object] = {}
    histories: dict[int, list[ChangeEntry]] = defaultdict(list)
    for record in reversed(records):  # oldest first: each meets the one before it
        older = previous.get(record.id)
        previous[record.id] = record
        if older is None and record.history_type != "+" and truncated:
            continue  # its predecessor fell outside the window: no honest diff
        entry = ChangeEntry(
            when=record.history_date, actor=record.history_user,
            reason=record.history_change_reason or "", kind=record.history_type, version=None,
        )
        if record.history_type == "~" and older is not None:
            for field in fields:
                before, after = getattr(older, field.attname), getattr(record, field.attname)
                if before != after:
                    entry.changes.append(FieldChange(
                        label=str(field.verbose_name),
                        old=_display(field, before, names), new=_display(field, after, names),
                    ))
        histories[record.id].append(entry)
    for entries in histories.values():
        entries.reverse()
    return dict(histories)


def _institution_names(records) -> dict[int, str]:
    ids = {record.party_institution_id for record in records} - {None}
    if not ids:
        return {}
    return dict(Institution.objects.filter(pk__in=ids).order_by().values_list("pk", "name"))


def _display(field: models.Field, value, names: dict[int, str]) -> str:
    if value is None or value == "":
        return "—"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.ForeignKey):
        return names.get(value, str(value))
    return str(value)
