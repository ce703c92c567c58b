"""The ledger keeps every change: who, when, what, why — on every write path."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from catalog import search
from catalog.changes import asset_changes
from catalog.choices import OpenAttribute, SharingType
from catalog.history import ledger_context
from catalog.models import DataAsset

from ..factories import DataAssetFactory, InstitutionFactory, UserFactory, region

pytestmark = pytest.mark.django_db


def history_counts(assets) -> dict[int, int]:
    return {a.pk: DataAsset.history.filter(id=a.pk).count() for a in assets}


def latest(asset):
    return DataAsset.history.filter(id=asset.pk).order_by("-history_date", "-history_id").first()


def versions(assets) -> dict[int, int]:
    rows = DataAsset.objects.filter(pk__in=[a.pk for a in assets])
    return dict(rows.values_list("pk", "version"))


@pytest.fixture
def actor():
    return UserFactory(username="editor")


def test_create_records_actor_and_reason(actor):
    with ledger_context(actor=actor, reason="首次登记"):
        asset = DataAssetFactory()
    record = latest(asset)
    assert asset.history.count() == 1
    assert (record.history_type, record.history_user_id, record.history_change_reason) == (
        "+", actor.pk, "首次登记",
    )
    assert DataAsset.objects.get(pk=asset.pk).created_by_id == actor.pk


def test_save_records_actor_reason_and_new_version(actor):
    asset = DataAssetFactory()
    with ledger_context(actor=actor, reason="更正名称"):
        asset.name = "更正后的名称"
        asset.save()
    record = latest(asset)
    assert asset.history.count() == 2
    assert (record.history_type, record.history_user_id, record.history_change_reason) == (
        "~", actor.pk, "更正名称",
    )
    assert (record.name, record.version) == ("更正后的名称", 2)
    assert DataAsset.objects.get(pk=asset.pk).updated_by_id == actor.pk


def test_each_save_records_the_reason_of_its_own_context(actor):
    asset = DataAssetFactory()
    with ledger_context(actor=actor, reason="第一次修改"):
        asset.name = "名称一"
        asset.save()
    with ledger_context(actor=actor, reason="第二次修改"):
        asset.name = "名称二"
        asset.save()
    asset.name = "名称三"
    asset.save()  # no reason given: none may be invented
    reasons = list(
        asset.history.order_by("history_date", "history_id").values_list(
            "history_change_reason", flat=True
        )
    )
    assert [r or "" for r in reasons] == ["", "第一次修改", "第二次修改", ""]


def test_queryset_update_records_one_row_per_asset(actor):
    targets = DataAssetFactory.create_batch(3, grade=3)
    bystander = DataAssetFactory(grade=4)
    before_counts = history_counts([*targets, bystander])
    before_versions = versions([*targets, bystander])
    with ledger_context(actor=actor, reason="统一调整分级"):
        updated = DataAsset.objects.filter(grade=3).update(grade=4)
    assert updated == 3
    after_counts = history_counts([*targets, bystander])
    after_versions = versions([*targets, bystander])
    for asset in targets:
        assert after_counts[asset.pk] == before_counts[asset.pk] + 1
        assert after_versions[asset.pk] == before_versions[asset.pk] + 1
        record = latest(asset)
        assert (record.grade, record.version) == (4, after_versions[asset.pk])
        assert (record.history_user_id, record.history_change_reason, record.history_type) == (
            actor.pk, "统一调整分级", "~",
        )
    assert after_counts[bystander.pk] == before_counts[bystander.pk]
    assert after_versions[bystander.pk] == before_versions[bystander.pk]
    assert set(DataAsset.objects.filter(pk__in=[a.pk for a in targets]).values_list(
        "updated_by_id", flat=True)) == {actor.pk}


def test_bulk_update_records_one_row_per_asset(actor):
    assets = DataAssetFactory.create_batch(3)
    before_counts = history_counts(assets)
    before_versions = versions(assets)
    for i, asset in enumerate(assets):
        asset.record_count = 5000 + i
    with ledger_context(actor=actor, reason="清查后更新数据量"):
        DataAsset.objects.bulk_update(assets, ["record_count"])
    after_counts = history_counts(assets)
    after_versions = versions(assets)
    for i, asset in enumerate(assets):
        assert after_counts[asset.pk] == before_counts[asset.pk] + 1
        assert after_versions[asset.pk] == before_versions[asset.pk] + 1
        record = latest(asset)
        assert record.record_count == 5000 + i
        assert (record.history_user_id, record.history_change_reason) == (
            actor.pk, "清查后更新数据量",
        )


def test_bulk_create_records_one_row_per_asset(actor):
    holder = InstitutionFactory(region=region("330203"))
    assets = DataAssetFactory.build_batch(4, holder=holder)
    with ledger_context(actor=actor, reason="批量导入"):
        created = DataAsset.objects.bulk_create(assets)
    assert all(a.pk for a in created)
    for asset in created:
        records = list(DataAsset.history.filter(id=asset.pk))
        assert len(records) == 1
        record = records[0]
        assert (record.history_type, record.history_user_id, record.history_change_reason,
                record.version) == ("+", actor.pk, "批量导入", 1)
    stored = DataAsset.objects.filter(pk__in=[a.pk for a in created])
    # Derived fields are filled in on the way in.
    for asset in stored:
        assert asset.search_document == search.document(
            asset.code, asset.name, asset.name_en, asset.description
        )
        assert (asset.region_id, asset.region_province_id) == ("330203", "330000")
        assert asset.created_by_id == actor.pk


def test_update_of_name_refreshes_the_search_document(actor):
    asset = DataAssetFactory(name="门诊挂号数据")
    with ledger_context(actor=actor, reason="改名"):
        DataAsset.objects.filter(pk=asset.pk).update(name="肿瘤筛查数据")
    asset.refresh_from_db()
    assert asset.search_document == search.document(
        asset.code, "肿瘤筛查数据", asset.name_en, asset.description
    )
    assert list(DataAsset.objects.search(["肿瘤"])) == [asset]
    assert not DataAsset.objects.search(["挂号"]).exists()


def test_update_of_holder_refreshes_the_region_copies(actor):
    asset = DataAssetFactory(holder=InstitutionFactory(region=region("330106")))
    far = InstitutionFactory(region=region("440106"))
    with ledger_context(actor=actor, reason="移交"):
        DataAsset.objects.filter(pk=asset.pk).update(holder=far)
    asset.refresh_from_db()
    assert (asset.holder_id, asset.region_id, asset.region_city_id, asset.region_province_id) == (
        far.pk, "440106", "440100", "440000",
    )
    assert latest(asset).holder_id == far.pk


def test_moving_an_institution_moves_its_assets_with_a_trace(actor):
    institution = InstitutionFactory(region=region("330106"))
    assets = DataAssetFactory.create_batch(2, holder=institution)
    elsewhere = DataAssetFactory()
    before_counts = history_counts([*assets, elsewhere])
    before_versions = versions(assets)
    with translation.override("en"), ledger_context(actor=actor):
        institution.region = region("330203")
        institution.save()
    for asset in assets:
        stored = DataAsset.objects.get(pk=asset.pk)
        assert (stored.region_id, stored.region_city_id, stored.region_province_id) == (
            "330203", "330200", "330000",
        )
        assert stored.version == before_versions[asset.pk] + 1
        record = latest(asset)
        assert DataAsset.history.filter(id=asset.pk).count() == before_counts[asset.pk] + 1
        assert record.history_user_id == actor.pk
        assert record.history_change_reason == "The holding institution moved to another region"
    assert history_counts([elsewhere])[elsewhere.pk] == before_counts[elsewhere.pk]


def test_saving_an_institution_without_moving_it_writes_no_history():
    institution = InstitutionFactory(region=region("330106"))
    asset = DataAssetFactory(holder=institution)
    institution.name = "新院名"
    institution.save()
    assert asset.history.count() == 1


def test_asset_changes_lists_field_by_field_differences(actor):
    asset = DataAssetFactory(name="旧名称", grade=3, sharing_type=SharingType.CONDITIONAL)
    with ledger_context(actor=actor, reason="复核分级"):
        asset.name = "新名称"
        asset.grade = 4
        asset.save()
    with translation.override("en"):
        entries = asset_changes(asset)
        name_label = str(DataAsset._meta.get_field("name").verbose_name)
        grade_field = DataAsset._meta.get_field("grade")
        grade_labels = dict(grade_field.choices)
        expected = {
            (name_label, "旧名称", "新名称"),
            (str(grade_field.verbose_name), str(grade_labels[3]), str(grade_labels[4])),
        }
        assert len(entries) == 2
        newest, created = entries
        assert (newest.kind, newest.reason, newest.version, newest.actor) == (
            "~", "复核分级", 2, actor,
        )
        assert {(c.label, c.old, c.new) for c in newest.changes} == expected
        assert (created.kind, created.changes) == ("+", [])


def test_asset_changes_shows_related_names_and_list_labels(actor):
    old_holder = InstitutionFactory(name="甲医院")
    new_holder = InstitutionFactory(name="乙医院")
    asset = DataAssetFactory(holder=old_holder, categories=["health_status"])
    with ledger_context(actor=actor, reason="移交"):
        asset.holder = new_holder
        asset.categories = ["health_status", "public_health"]
        asset.save()
    with translation.override("en"):
        changes = {c.label: (c.old, c.new) for c in asset_changes(asset)[0].changes}
        holder_label = str(DataAsset._meta.get_field("holder").verbose_name)
        categories_field = DataAsset._meta.get_field("categories")
        labels = dict(categories_field.choice_class.choices)
        assert changes[holder_label] == ("甲医院", "乙医院")
        assert changes[str(categories_field.verbose_name)] == (
            str(labels["health_status"]),
            ", ".join(str(labels[c]) for c in ["health_status", "public_health"]),
        )
        assert len(changes) == 2


def test_detail_page_shows_the_reason_and_the_change(client, superuser):
    asset = DataAssetFactory(name="旧的资产名称")
    with ledger_context(actor=superuser, reason="根据清查结果更正"):
        asset.name = "新的资产名称"
        asset.save()
    client.force_login(superuser)
    response = client.get(reverse("catalog:asset_detail", args=[asset.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    history_section = page[page.index('class="history"'):]
    assert "根据清查结果更正" in history_section
    assert "旧的资产名称" in history_section
    assert "新的资产名称" in history_section
    assert str(DataAsset._meta.get_field("name").verbose_name) in history_section


def test_contact_changes_are_not_shown_to_anonymous_readers(client, superuser):
    """The page hides the responsible person's phone and email from anonymous readers of an
    open asset: their history must not show them either."""
    asset = DataAssetFactory(
        sharing_type=SharingType.UNCONDITIONAL, open_attribute=OpenAttribute.OPEN, grade=1,
        status="registered", responsible_phone="0571-11111111", responsible_email="a@x.cn",
    )
    with ledger_context(actor=superuser, reason="联系人变更"):
        asset.responsible_phone = "0571-22222222"
        asset.responsible_email = "b@x.cn"
        asset.name = "改名后的资产"
        asset.save()
    url = reverse("catalog:asset_detail", args=[asset.pk])
    anonymous = client.get(url)
    assert anonymous.status_code == 200
    page = anonymous.content.decode()
    for secret in ("0571-11111111", "0571-22222222", "a@x.cn", "b@x.cn"):
        assert secret not in page
    assert "改名后的资产" in page
    client.force_login(superuser)
    page = client.get(url).content.decode()
    assert "0571-11111111" in page and "0571-22222222" in page
