"""The catalog FilterSet (shared by the list page and, later, the API)."""

from __future__ import annotations

import pytest
from django.http import QueryDict

from catalog.choices import DataCategory, SharingType, UpdateFrequency
from catalog.filtersets import DataAssetFilterSet
from catalog.models import CatalogClass, DataAsset

from ..factories import DataAssetFactory, InstitutionFactory, region

pytestmark = pytest.mark.django_db


@pytest.fixture
def assets():
    west_lake = InstitutionFactory(region=region("330106"))
    ningbo = InstitutionFactory(region=region("330203"))
    guangzhou = InstitutionFactory(region=region("440106"))
    return {
        "a": DataAssetFactory(holder=west_lake, name="肿瘤登记", grade=3,
                              categories=[DataCategory.PUBLIC_HEALTH],
                              catalog_class=CatalogClass.objects.get(code="0202")),
        "b": DataAssetFactory(holder=ningbo, name="医院床位", grade=1, open=True,
                              update_frequency=UpdateFrequency.MONTHLY,
                              catalog_class=CatalogClass.objects.get(code="0501")),
        "c": DataAssetFactory(holder=guangzhou, name="肿瘤医院病历", grade=4,
                              sharing_type=SharingType.NOT_SHARED, sharing_condition="法规",
                              catalog_class=CatalogClass.objects.get(code="02")),
    }


def run(params: dict):
    data = QueryDict(mutable=True)
    data.update(params)
    return DataAssetFilterSet(data, queryset=DataAsset.objects.all())


def names(assets, filterset) -> set[str]:
    assert filterset.is_valid(), filterset.errors
    by_pk = {a.pk: k for k, a in assets.items()}
    return {by_pk[pk] for pk in filterset.qs.values_list("pk", flat=True)}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"a", "b", "c"}),
        ({"q": "肿瘤"}, {"a", "c"}),
        ({"q": "肿瘤 医院"}, {"c"}),
        ({"category": "public_health"}, {"a"}),
        ({"category": "health_resources"}, {"b"}),
        ({"grade": "4"}, {"c"}),
        ({"sharing_type": "not_shared"}, {"c"}),
        ({"update_frequency": "monthly"}, {"b"}),
        ({"status": "registered"}, {"a", "b", "c"}),
        ({"status": "draft"}, set()),
        ({"region": "330000"}, {"a", "b"}),
        ({"region": "330200"}, {"b"}),
        ({"region": "330106"}, {"a"}),
        ({"region": "440000"}, {"c"}),
        ({"region": "110000"}, set()),
        ({"catalog_class": "02"}, {"a", "c"}),  # a class and its children
        ({"catalog_class": "0202"}, {"a"}),
        ({"region": "330000", "grade": "3"}, {"a"}),
    ],
)
def test_filters(assets, params, expected):
    assert names(assets, run(params)) == expected


def test_holder_filter(assets):
    assert names(assets, run({"holder": str(assets["b"].holder_id)})) == {"b"}


@pytest.mark.parametrize(
    "params",
    [
        {"q": "\x00"}, {"q": "x" * 101}, {"q": "。。。"}, {"category": "foo"}, {"grade": "0"},
        {"grade": "x"}, {"sharing_type": "bogus"}, {"region": "999999"}, {"region": "abc"},
        {"holder": "one"}, {"catalog_class": "99"}, {"status": "gone"},
    ],
)
def test_invalid_values_are_form_errors(assets, params):
    filterset = run(params)
    assert not filterset.is_valid()
    assert set(filterset.errors) == set(params)
