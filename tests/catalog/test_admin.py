"""Administration: the same scoping rule, optimistic locking and history as the pages."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from accounts.models import Institution
from catalog.history import ledger_context
from catalog.models import DataAsset

from ..factories import DataAssetFactory, InstitutionFactory, credit_code, region
from ..helpers import form_data, formset_data

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:catalog_dataasset_changelist")


def change_url(asset):
    return reverse("admin:catalog_dataasset_change", args=[asset.pk])


def state(asset) -> tuple[dict, int]:
    return DataAsset.objects.filter(pk=asset.pk).values().get(), asset.history.count()


@pytest.fixture
def staff_steward(steward):
    steward.is_staff = True
    steward.save()
    steward.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="catalog", codename__in=["view_dataasset", "change_dataasset"]
    ))
    return steward


@pytest.fixture
def assets(hospital, far_hospital):
    return {
        "mine": DataAssetFactory(holder=hospital, name="本省资产"),
        "open_far": DataAssetFactory(holder=far_hospital, name="外省开放资产", open=True),
        "hidden_far": DataAssetFactory(holder=far_hospital, name="外省内部资产"),
    }


def admin_post_data(client, url, **overrides) -> dict:
    """The change form as the admin rendered it, with inline management data."""
    response = client.get(url)
    assert response.status_code == 200
    data = form_data(response.context["adminform"].form)
    for inline in response.context.get("inline_admin_formsets") or []:
        data.update(formset_data(inline.formset))
    data.update(overrides)
    return data


def test_steward_changelist_shows_only_scoped_assets(client, staff_steward, assets):
    client.force_login(staff_steward)
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    listed = {a.pk for a in response.context["cl"].result_list}
    assert listed == {assets["mine"].pk, assets["open_far"].pk}
    assert assets["hidden_far"].name not in response.content.decode()


def test_admin_search_stays_in_scope(client, staff_steward, assets):
    client.force_login(staff_steward)
    response = client.get(CHANGELIST, {"q": "外省"})
    assert {a.pk for a in response.context["cl"].result_list} == {assets["open_far"].pk}


def test_superuser_changelist_shows_everything(client, superuser, assets):
    client.force_login(superuser)
    response = client.get(CHANGELIST)
    assert {a.pk for a in response.context["cl"].result_list} == {a.pk for a in assets.values()}


def test_hidden_asset_change_page_does_not_open(client, staff_steward, assets):
    client.force_login(staff_steward)
    response = client.get(change_url(assets["hidden_far"]))
    assert response.status_code == 302  # the admin's "does not exist" redirect
    assert assets["hidden_far"].name not in client.get(response["Location"]).content.decode()


def test_visible_but_not_editable_asset_is_read_only(client, staff_steward, assets):
    client.force_login(staff_steward)
    asset = assets["open_far"]
    response = client.get(change_url(asset))
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    before = state(asset)
    response = client.post(change_url(asset), {"name": "改名", "expected_version": asset.version})
    assert response.status_code == 403
    assert state(asset) == before


def test_admin_edit_records_actor_and_reason(client, staff_steward, assets):
    client.force_login(staff_steward)
    asset = assets["mine"]
    before_history = asset.history.count()
    data = admin_post_data(client, change_url(asset), name="本省资产（更新）")
    response = client.post(change_url(asset), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    stored = DataAsset.objects.get(pk=asset.pk)
    assert (stored.name, stored.version) == ("本省资产（更新）", asset.version + 1)
    assert asset.history.count() == before_history + 1
    record = asset.history.order_by("-history_date", "-history_id").first()
    assert record.history_user_id == staff_steward.pk
    assert record.history_change_reason == "Edited in administration"


def test_stale_admin_edit_is_refused(client, staff_steward, assets):
    client.force_login(staff_steward)
    asset = assets["mine"]
    data = admin_post_data(client, change_url(asset), name="管理员的修改")
    # Meanwhile a registrar saves through the page.
    with ledger_context(actor=staff_steward, reason="并发修改"):
        concurrent = DataAsset.objects.get(pk=asset.pk)
        concurrent.name = "先保存的修改"
        concurrent.save()
    before = state(asset)
    response = client.post(change_url(asset), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors()
    assert any("Someone else saved this asset" in e for e in errors)
    assert "Someone else saved this asset" in response.content.decode()
    assert state(asset) == before
    assert DataAsset.objects.get(pk=asset.pk).name == "先保存的修改"


def test_admin_cannot_move_an_asset_out_of_the_stewards_reach(client, staff_steward, assets,
                                                              far_hospital):
    client.force_login(staff_steward)
    asset = assets["mine"]
    before = state(asset)
    data = admin_post_data(client, change_url(asset), holder=str(far_hospital.pk))
    response = client.post(change_url(asset), data)
    assert response.status_code == 403
    assert state(asset) == before


def test_history_of_a_hidden_asset_is_not_shown(client, staff_steward, assets):
    client.force_login(staff_steward)
    asset = assets["hidden_far"]
    url = reverse("admin:catalog_dataasset_history", args=[asset.pk])
    response = client.get(url)
    assert response.status_code == 404
    assert asset.name not in response.content.decode()


def test_historical_version_of_a_hidden_asset_is_not_shown(client, staff_steward, assets):
    client.force_login(staff_steward)
    asset = assets["hidden_far"]
    record = asset.history.first()
    url = reverse("admin:catalog_dataasset_simple_history", args=[asset.pk, record.history_id])
    response = client.get(url)
    assert response.status_code == 404
    assert asset.name not in response.content.decode()


def test_reverting_through_the_history_form_is_refused(client, staff_steward, superuser, assets):
    """Revert is disabled; posting the historical form must not write (it bypassed scoping)."""
    asset = assets["open_far"]
    with ledger_context(actor=superuser, reason="更新"):
        asset.name = "外省开放资产（新）"
        asset.save()
    record = asset.history.order_by("history_date", "history_id").first()
    url = reverse("admin:catalog_dataasset_simple_history", args=[asset.pk, record.history_id])
    client.force_login(staff_steward)
    before = state(asset)
    assert client.get(url).status_code == 200  # visible: its history may be read
    data = admin_post_data(client, url, expected_version=str(asset.version))
    response = client.post(url, data)
    assert response.status_code == 403
    assert state(asset) == before


def test_history_of_an_editable_asset_is_shown(client, staff_steward, assets):
    client.force_login(staff_steward)
    asset = assets["mine"]
    response = client.get(reverse("admin:catalog_dataasset_history", args=[asset.pk]))
    assert response.status_code == 200


# --- Institutions -----------------------------------------------------------------------------


def test_institution_with_a_wrong_credit_code_is_refused_in_the_admin(superuser):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(superuser)
    good = credit_code(4242)
    wrong = good[:17] + ("A" if good[17] != "A" else "B")
    before = Institution.objects.count()
    response = client.post(reverse("admin:accounts_institution_add"), {
        "name": "错误代码医院", "credit_code": wrong, "type": "hospital_tertiary",
        "region": "330106", "parent": "", "is_active": "on",
    })
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert list(form.errors) == ["credit_code"]
    assert "check character" in response.content.decode()
    assert Institution.objects.count() == before
    assert not Institution.objects.filter(name="错误代码医院").exists()

    response = client.post(reverse("admin:accounts_institution_add"), {
        "name": "正确代码医院", "credit_code": good, "type": "hospital_tertiary",
        "region": "330106", "parent": "", "is_active": "on",
    })
    assert response.status_code == 302
    assert Institution.objects.get(credit_code=good).region == region("330106")


def test_institution_region_change_in_the_admin_moves_its_assets(superuser):
    institution = InstitutionFactory(region=region("330106"))
    asset = DataAssetFactory(holder=institution)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(superuser)
    url = reverse("admin:accounts_institution_change", args=[institution.pk])
    data = admin_post_data(client, url, region="440106")
    assert client.post(url, data).status_code == 302
    stored = DataAsset.objects.get(pk=asset.pk)
    assert (stored.region_id, stored.region_province_id) == ("440106", "440000")
    record = asset.history.order_by("-history_date", "-history_id").first()
    assert record.history_user_id == superuser.pk
    assert record.history_change_reason
