"""The catalog page's FilterSet, as the API uses it: the same filters, with bounds and
types that let bad input answer 400 rather than reach the database."""

from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from catalog.filtersets import DataAssetFilterSet

from .pagination import MAX_ID


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class AssetFilterSet(DataAssetFilterSet):
    """:class:`catalog.filtersets.DataAssetFilterSet` (every filter and its checks), with
    the holder as a bounded whole number (the page's decimal would let 1e30 reach SQL)."""

    holder = IdFilter(
        label=_("Holding institution"), field_name="holder_id", min_value=1, max_value=MAX_ID
    )

    class Meta(DataAssetFilterSet.Meta):
        pass
