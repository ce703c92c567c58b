"""A list page's rows read with ``values()`` and represented exactly as a serializer would
represent the model instances, without building an instance or walking DRF's per-field
machinery for each row.

The plan is compiled once from the serializer's own fields (so the serializer stays the one
definition of the representation, and of the OpenAPI schema); tests compare the two outputs
field for field. A list endpoint is read far more often than anything else, and this is
where its time went: DRF's field lookups and copies cost several times the query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import get_language
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from .serializers import ChoiceLabelField, ChoiceLabelsField

# Fields whose representation of a stored (non-null) value is that value itself.
_AS_STORED = (serializers.CharField, serializers.ChoiceField, serializers.BooleanField,
              serializers.IntegerField)


# A date and time in the request's time zone, as DRF's DateTimeField writes it by default.
_LOCAL_TIME = object()


@dataclass(frozen=True)
class _Step:
    key: str
    column: str
    convert: Callable | object | None  # None: the value as stored
    labels: ChoiceLabelField | ChoiceLabelsField | None = None
    nested: tuple[_Step, ...] = ()


class FlatRepresentation:
    """The representation of ``serializer_class`` for rows of ``values(*columns)``."""

    def __init__(self, serializer_class: type[serializers.ModelSerializer]):
        self.steps = tuple(self._step(key, field)
                           for key, field in serializer_class().fields.items())
        self.columns = tuple(dict.fromkeys(self._columns(self.steps)))
        self._labels: dict[str, dict[int, dict]] = {}

    @classmethod
    def _step(cls, key: str, field, prefix: str = "") -> _Step:
        column = prefix + field.source.replace(".", "__")
        if isinstance(field, serializers.ModelSerializer):
            nested = tuple(cls._step(k, f, f"{column}__") for k, f in field.fields.items())
            if prefix or any(s.convert or s.labels or s.nested for s in nested):
                raise TypeError(f"{key}: only one level of plain nested fields is flattened")
            return _Step(key, f"{column}_id", None, nested=nested)
        if isinstance(field, serializers.SlugRelatedField):
            return _Step(key, f"{column}__{field.slug_field}", None)
        if isinstance(field, ChoiceLabelField | ChoiceLabelsField):
            return _Step(key, column, None, labels=field)
        if isinstance(field, serializers.ListField) and isinstance(field.child, _AS_STORED):
            return _Step(key, column, None)
        if isinstance(field, serializers.DateTimeField) and not hasattr(field, "timezone") and (
            getattr(field, "format", api_settings.DATETIME_FORMAT) == ISO_8601
        ):
            return _Step(key, column, _LOCAL_TIME)
        if isinstance(field, serializers.DateTimeField | serializers.DateField):
            return _Step(key, column, field.to_representation)
        if isinstance(field, _AS_STORED):
            return _Step(key, column, None)
        raise TypeError(f"{key}: no flat representation for {type(field).__name__}")

    @staticmethod
    def _columns(steps: Iterable[_Step]):
        for step in steps:
            yield step.column
            yield from (nested.column for nested in step.nested)

    def _translated(self) -> dict[int, dict]:
        """Each label field's code → label map, in the active language (made once each)."""
        language = get_language() or ""
        found = self._labels.get(language)
        if found is None:
            found = {id(step): {value: str(label) for value, label in step.labels.labels.choices}
                     for step in self.steps if step.labels is not None}
            self._labels[language] = found
        return found

    def represent(self, rows: Iterable[dict], *, omit: Iterable[str] = ()) -> list[dict]:
        labels = self._translated()
        omit = frozenset(omit)
        steps = [step for step in self.steps if step.key not in omit]
        zone = timezone.get_current_timezone()
        return [self._row(row, steps, labels, zone) for row in rows]

    @staticmethod
    def _row(row: dict, steps: list[_Step], labels: dict[int, dict], zone) -> dict:
        data = {}
        for step in steps:
            value = row[step.column]
            if value is None:
                data[step.key] = None
            elif step.nested:
                data[step.key] = {inner.key: row[inner.column] for inner in step.nested}
            elif step.labels is not None:
                names = labels[id(step)]
                if isinstance(step.labels, ChoiceLabelsField):
                    data[step.key] = [names.get(code, code) for code in value]
                else:
                    data[step.key] = "" if value == "" else names.get(value, value)
            elif step.convert is _LOCAL_TIME:
                # DRF's ISO 8601 in the current time zone, "Z" for UTC.
                text = value.astimezone(zone).isoformat()
                data[step.key] = text[:-6] + "Z" if text.endswith("+00:00") else text
            elif step.convert is not None:
                data[step.key] = step.convert(value)
            else:
                data[step.key] = value
        return data
