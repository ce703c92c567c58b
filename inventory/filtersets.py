"""The findings list's filters: one FilterSet for the page and the API.

The page ignores a value it cannot use (a filter form never turns into an error page), except
a run the user may not see, which answers 404; the API answers 400 for either. Both read the
same checks from here, so a query string selects the same findings on both.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from .choices import FindingRule, FindingStatus, Severity
from .models import Finding, Run

# Row ids are PostgreSQL bigints: a larger number would make the database refuse the query.
MAX_ID = 2**63 - 1
ANY_STATUS = "all"


class IdField(forms.IntegerField):
    """A row id: a whole number from 1 to the largest bigint."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class IdFilter(django_filters.Filter):
    field_class = IdField


class RunField(django_filters.fields.ModelChoiceField):
    """A run among those the user may see. A malformed id is ``invalid``; a missing or
    hidden run (alike) is ``invalid_choice``."""

    widget = forms.HiddenInput

    def to_python(self, value):
        if value in self.empty_values:
            return None
        return super().to_python(IdField().clean(value))


class RunFilter(django_filters.ModelChoiceFilter):
    """The findings a run saw last, or (with ``new``) those it found first."""

    field_class = RunField

    def filter(self, qs: QuerySet, value: Run | None) -> QuerySet:
        if value is None:
            return qs
        new = self.parent.form.cleaned_data.get("new")
        return qs.filter(first_run=value) if new else qs.filter(last_run=value)


class FlagField(forms.Field):
    """true/false (or 1/0); empty is "not given". Anything else is an error, not a guess."""

    widget = forms.HiddenInput
    VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value) -> bool | None:
        if value in self.empty_values:
            return None
        if isinstance(value, bool):
            return value
        found = self.VALUES.get(str(value).lower())
        if found is None:
            raise ValidationError(_("Expected true or false."), code="invalid")
        return found


class FlagFilter(django_filters.BooleanFilter):
    field_class = FlagField


def visible_runs(request) -> QuerySet[Run]:
    return Run.objects.restrict(request.user if request is not None else None)


class FindingFilterSet(django_filters.FilterSet):
    """The filters of the findings list. Without a ``status``, the findings not yet
    resolved; ``run`` (with ``new``: first found by it) must be a run the user may see."""

    rule = django_filters.ChoiceFilter(
        label=_("Finding"), choices=FindingRule.choices, empty_label=_("All findings"),
    )
    severity = django_filters.ChoiceFilter(
        label=_("Severity"), choices=Severity.choices, empty_label=_("Any severity"),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=[(ANY_STATUS, _("Any status")), *FindingStatus.choices],
        empty_label=_("Not yet resolved"), method="filter_status",
    )
    run = RunFilter(label=_("Run"), queryset=visible_runs, field_name="last_run")
    new = FlagFilter(label=_("First found by this run."), method="filter_new")
    institution = IdFilter(label=_("Institution"), field_name="institution")

    class Meta:
        model = Finding
        fields: list[str] = []

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        if not self.form.cleaned_data.get("status"):
            queryset = queryset.current()
        return super().filter_queryset(queryset)

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset if value == ANY_STATUS else queryset.filter(status=value)

    def filter_new(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset  # it qualifies the run filter (see RunFilter)

    @property
    def hidden_run(self) -> bool:
        """Whether ``run`` names a run that is missing or hidden from the user."""
        return self.form.has_error("run", "invalid_choice")
