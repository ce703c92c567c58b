"""A list of enumeration codes stored as JSON, filterable on PostgreSQL and SQLite alike."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext


class ChoiceListField(models.JSONField):
    """A set of codes from one enumeration (e.g. an asset's categories), kept sorted.

    ``field__has="code"`` finds the rows whose list contains ``code``.
    """

    def __init__(self, *args, choice_class=None, **kwargs):
        self.choice_class = choice_class
        kwargs.setdefault("default", list)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["choice_class"] = self.choice_class
        kwargs["blank"] = self.blank  # the default here is True, unlike Field's
        return name, path, args, kwargs

    def get_prep_value(self, value):
        if isinstance(value, list | tuple | set | frozenset):
            value = sorted({str(item) for item in value})
        return super().get_prep_value(value)

    def validate(self, value, model_instance) -> None:
        super().validate(value, model_instance)
        if not isinstance(value, list | tuple | set | frozenset):
            raise ValidationError(_("Expected a list of values."), code="invalid")
        known = set(self.choice_class.values)
        unknown = sorted({str(item) for item in value} - known)
        if unknown:
            raise ValidationError(
                _("Unknown value(s): %(values)s."),
                code="invalid_choice",
                params={"values": ", ".join(unknown)},
            )

    def formfield(self, **kwargs):
        return forms.TypedMultipleChoiceField(
            choices=self.choice_class.choices,
            required=not self.blank,
            label=self.verbose_name,
            help_text=self.help_text,
            widget=forms.CheckboxSelectMultiple,
            **{k: v for k, v in kwargs.items() if k in ("initial", "disabled")},
        )

    def display(self, value) -> list[str]:
        labels = dict(self.choice_class.choices)
        return [str(labels.get(code, code)) for code in value or []]

    def display_text(self, value) -> str:
        """The labels joined with the list separator of the active language (、 in Chinese)."""
        return pgettext("list separator", ", ").join(self.display(value))


@ChoiceListField.register_lookup
class HasChoice(models.Lookup):
    """``categories__has="health_status"``: the list contains the code."""

    lookup_name = "has"
    prepare_rhs = False

    def get_prep_lookup(self):
        return str(self.rhs)

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        # jsonb @> '["code"]' uses a GIN (jsonb_path_ops) index.
        return f"{lhs} @> jsonb_build_array(%s::text)", [*lhs_params, self.rhs]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return (
            f"EXISTS (SELECT 1 FROM json_each({lhs}) WHERE json_each.value = %s)",  # noqa: S608
            [*lhs_params, self.rhs],
        )
