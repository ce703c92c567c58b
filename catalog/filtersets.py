"""The catalog's filters, shared by the list page (and, later, the API)."""

from __future__ import annotations

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import Region
from accounts.scoping import jurisdiction_q

from . import search
from .choices import AssetStatus, DataCategory, SensitivityGrade, SharingType, UpdateFrequency
from .models import CatalogClass, DataAsset


class SearchField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        search.parse_query(value or "")
        return value


class SearchFilter(django_filters.CharFilter):
    field_class = SearchField


class RegionField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        try:
            return Region.objects.get(code=value)
        except Region.DoesNotExist:
            raise ValidationError(
                _("No administrative division has the code %(code)s."), params={"code": value[:12]}
            ) from None


class RegionFilter(django_filters.Filter):
    field_class = RegionField

    def filter(self, qs, value):
        if value is None:
            return qs
        return qs.filter(jurisdiction_q(value.level, value.code))


class DataAssetFilterSet(django_filters.FilterSet):
    q = SearchFilter(label=_("Search"), method="filter_search", max_length=search.MAX_QUERY_LENGTH)
    category = django_filters.ChoiceFilter(
        label=_("Data category"), choices=DataCategory.choices, field_name="categories",
        lookup_expr="has",
    )
    grade = django_filters.TypedChoiceFilter(
        label=_("Sensitivity grade"), choices=SensitivityGrade.choices, coerce=int
    )
    sharing_type = django_filters.ChoiceFilter(label=_("Sharing type"), choices=SharingType.choices)
    update_frequency = django_filters.ChoiceFilter(
        label=_("Update frequency"), choices=UpdateFrequency.choices
    )
    status = django_filters.ChoiceFilter(label=_("Status"), choices=AssetStatus.choices)
    holder = django_filters.NumberFilter(label=_("Holding institution"), field_name="holder_id")
    region = RegionFilter(label=_("Region"))
    catalog_class = django_filters.ModelChoiceFilter(
        label=_("Catalog class"), queryset=CatalogClass.objects.all(), to_field_name="code",
        method="filter_class",
    )

    class Meta:
        model = DataAsset
        fields: list[str] = []

    def filter_search(self, qs, name, value):
        return qs.search(search.parse_query(value))

    def filter_class(self, qs, name, value):
        if value.parent_id is None:
            children = value.children.values_list("pk", flat=True)
            return qs.filter(catalog_class__in=[value.pk, *children])
        return qs.filter(catalog_class=value)
