"""A record's change history as the API gives it: newest first, by cursor, each version
with the fields that changed since the one before."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import models

from .pagination import IdCursorPagination


class HistoryPagination(IdCursorPagination):
    ordering = "-history_id"


def add_field_changes(obj: models.Model, records: list, fields: Iterable[models.Field], *,
                      represent: Callable = lambda value: value) -> None:
    """Set ``field_changes`` on each history record of ``obj`` (a page, newest first): its
    differences from the record before, in ``fields``. One query more, for the record before
    the page's oldest."""
    fields = list(fields)
    older = None
    if records:
        older = obj.history.filter(history_id__lt=records[-1].history_id).order_by(
            "-history_id").first()
    for record, previous in zip(records, [*records[1:], older], strict=True):
        record.field_changes = []
        if record.history_type != "~" or previous is None:
            continue
        for field in fields:
            before, after = getattr(previous, field.attname), getattr(record, field.attname)
            if before != after:
                record.field_changes.append({
                    "field": field.name, "label": str(field.verbose_name),
                    "old": represent(before), "new": represent(after),
                })
