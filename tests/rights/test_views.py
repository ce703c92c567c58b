"""The rights pages: everyone who sees the asset sees its allocations and their history;
stewards in jurisdiction allocate, change and end; a hidden asset is 404, a visible one the
user may not allocate over is 403 on the writing pages."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from rights import services
from rights.models import RightsAllocation

from ..factories import AllocationFactory, DataAssetFactory, InstitutionFactory
from .conftest import hold_data

pytestmark = pytest.mark.django_db


def rights_url(asset) -> str:
    return reverse("rights:asset_rights", args=[asset.pk])


def form_data(asset, **overrides) -> dict:
    """What the add form posts for a sound holding right of the asset's holder."""
    return {
        "party_kind": "institution", "party_institution": asset.holder.credit_code,
        "party_description": "", "right": "hold",
        "legal_basis": "《数据二十条》第三条；《医疗机构管理条例》", "purpose": "", "scope": "",
        "valid_from": "2025-01-01", "valid_until": "", "status": "active", "change_reason": "",
        **overrides,
    }


def writing_urls(asset, allocation) -> list[str]:
    return [
        reverse("rights:allocate", args=[asset.pk]),
        reverse("rights:change_allocation", args=[asset.pk, allocation.pk]),
        reverse("rights:end_allocation", args=[asset.pk, allocation.pk]),
    ]


def test_a_steward_allocates_changes_and_ends_through_the_pages(client, steward, asset, cdc):
    client.force_login(steward)
    add = client.get(reverse("rights:allocate", args=[asset.pk]))
    assert add.status_code == 200
    assert asset.holder in add.context["suggestions"] and cdc in add.context["suggestions"]

    response = client.post(reverse("rights:allocate", args=[asset.pk]), form_data(asset))
    assert response.status_code == 302 and response["Location"] == rights_url(asset)
    allocation = RightsAllocation.objects.get()
    assert (allocation.right, allocation.party_institution, allocation.created_by) == (
        "hold", asset.holder, steward)

    edit_url = reverse("rights:change_allocation", args=[asset.pk, allocation.pk])
    edit = client.get(edit_url)
    assert f'value="{asset.holder.credit_code}"' in edit.content.decode()
    response = client.post(edit_url, form_data(
        asset, scope="病案首页全部字段", change_reason="补充范围"))
    assert response.status_code == 302
    allocation.refresh_from_db()
    assert allocation.scope == "病案首页全部字段"

    response = client.post(reverse("rights:end_allocation", args=[asset.pk, allocation.pk]),
                           {"reason": "持有机构变更"})
    assert response.status_code == 302
    allocation.refresh_from_db()
    assert (allocation.status, allocation.valid_until) == ("ended", timezone.localdate())

    page = client.get(rights_url(asset))
    assert page.context["current"] == [] and page.context["ended"] == [allocation]
    reasons = [entry.reason for entry in page.context["ended"][0].changes]
    assert reasons == ["持有机构变更", "补充范围", ""]  # newest first
    html = page.content.decode()
    assert "补充范围" in html and str(steward) in html
    # An ended allocation is closed: its edit page sends back to the list.
    again = client.get(edit_url)
    assert again.status_code == 302 and again["Location"] == rights_url(asset)


def test_the_institution_may_be_named_by_its_id(client, steward, asset, cdc):
    client.force_login(steward)
    response = client.post(reverse("rights:allocate", args=[asset.pk]), form_data(
        asset, party_institution=str(cdc.pk), right="process_use", purpose="传染病监测",
        valid_until="2027-12-31"))
    assert response.status_code == 302
    assert RightsAllocation.objects.get().party_institution == cdc


def test_data_subjects_through_the_page(client, steward, asset):
    client.force_login(steward)
    response = client.post(reverse("rights:allocate", args=[asset.pk]), form_data(
        asset, party_kind="data_subjects", party_institution="",
        party_description="本院就诊患者", right="copy",
        legal_basis="《中华人民共和国个人信息保护法》第四十五条"))
    assert response.status_code == 302
    allocation = RightsAllocation.objects.get()
    assert (allocation.party_institution, allocation.party_name) == (None, "本院就诊患者")


def test_the_holders_registrar_sees_but_may_not_allocate(client, registrar, asset):
    allocation = AllocationFactory(asset=asset)
    client.force_login(registrar)
    page = client.get(rights_url(asset))
    assert page.status_code == 200
    assert page.context["current"] == [allocation] and not page.context["can_allocate"]
    assert reverse("rights:allocate", args=[asset.pk]) not in page.content.decode()
    for url in writing_urls(asset, allocation):
        assert client.get(url).status_code == 403
        assert client.post(url, {**form_data(asset), "reason": "x"}).status_code == 403
    allocation.refresh_from_db()
    assert RightsAllocation.objects.count() == 1 and allocation.status == "active"
    assert allocation.history.count() == 1


def test_a_hidden_asset_is_404_for_a_steward_elsewhere(client, far_steward, asset):
    allocation = AllocationFactory(asset=asset)
    client.force_login(far_steward)
    assert client.get(rights_url(asset)).status_code == 404
    for url in writing_urls(asset, allocation):
        assert client.get(url).status_code == 404
        assert client.post(url, {**form_data(asset), "reason": "x"}).status_code == 404
    assert allocation.history.count() == 1


def test_an_allocation_of_another_asset_is_404(client, steward, asset, hospital):
    other = AllocationFactory(asset=DataAssetFactory(holder=hospital))
    client.force_login(steward)
    url = reverse("rights:change_allocation", args=[asset.pk, other.pk])
    assert client.get(url).status_code == 404


def test_signing_in_is_required(client, hospital):
    open_asset = DataAssetFactory(holder=hospital, open=True)
    response = client.get(rights_url(open_asset))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_rule_errors_stand_beside_their_fields(client, steward, asset):
    client.force_login(steward)
    response = client.post(reverse("rights:allocate", args=[asset.pk]), form_data(
        asset, party_kind="data_subjects", party_institution="",
        party_description="本院就诊患者"))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["right"] and "not resource rights" in errors["right"][0]
    assert not RightsAllocation.objects.exists()


@pytest.mark.parametrize("code", ["12330100MB0000000X", "inactive"])
def test_an_unknown_or_inactive_institution_is_refused(client, steward, asset, code):
    if code == "inactive":
        gone = InstitutionFactory(is_active=False)
        code = gone.credit_code
    client.force_login(steward)
    response = client.post(reverse("rights:allocate", args=[asset.pk]), form_data(
        asset, party_institution=code, right="process_use"))
    assert response.context["form"].errors["party_institution"] == [
        "No active institution has this unified social credit code."]
    assert not RightsAllocation.objects.exists()


def test_errors_speak_chinese_by_default_and_nothing_is_written(zh_client, steward, asset,
                                                                 cdc):
    zh_client.force_login(steward)
    response = zh_client.post(reverse("rights:allocate", args=[asset.pk]), form_data(
        asset, party_institution=cdc.credit_code, right="product_operate", legal_basis=""))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in html
    assert "请更正下方标出的字段。本次未保存任何内容。" in html
    with translation.override("zh-hans"):
        required = translation.gettext("This field is required.")
    assert required != "This field is required." and required in html  # the legal basis
    # Each rule's message is shown beside its field, in the language of the request.
    form = response.context["form"]
    assert set(form.errors) == {"legal_basis", "right", "purpose", "valid_until"}
    blocks = {chunk.split(" ", 1)[0].split('"', 1)[0]: chunk
              for chunk in html.split('<div class="field field-')[1:]}
    with translation.override("zh-hans"):
        for field in ("right", "purpose", "valid_until"):
            message = escape(str(form.errors.as_data()[field][0].messages[0]))
            assert "has-error" in blocks[field].split(">", 1)[0]
            assert message in blocks[field]
    assert "This field is required." not in html
    assert not RightsAllocation.objects.exists()
    assert not RightsAllocation.history.exists()


def test_an_end_without_reason_is_refused(client, steward, asset):
    allocation = AllocationFactory(asset=asset)
    client.force_login(steward)
    response = client.post(reverse("rights:end_allocation", args=[asset.pk, allocation.pk]),
                           {"reason": ""})
    assert response.status_code == 200 and response.context["form"].errors["reason"]
    allocation.refresh_from_db()
    assert allocation.status == "active"


def test_a_change_needs_its_reason(client, steward, asset):
    allocation = AllocationFactory(asset=asset)
    client.force_login(steward)
    response = client.post(
        reverse("rights:change_allocation", args=[asset.pk, allocation.pk]),
        form_data(asset, scope="x", change_reason=""))
    assert response.context["form"].errors["change_reason"]
    allocation.refresh_from_db()
    assert allocation.scope == ""


def test_the_list_marks_lapsed_and_ending_allocations(client, steward, asset, cdc):
    today = timezone.localdate()
    AllocationFactory(asset=asset, party_institution=cdc, right="process_use",
                      purpose="监测", valid_until=today - timezone.timedelta(days=3))
    AllocationFactory(asset=asset, party_institution=cdc, right="process_use",
                      purpose="监测", valid_until=today + timezone.timedelta(days=12))
    client.force_login(steward)
    html = client.get(rights_url(asset)).content.decode()
    assert "past its end date" in html and "ends within 30 days" in html


# --- The asset page's summary ---------------------------------------------------------------


def test_the_asset_page_shows_the_current_allocations(client, steward, registrar, asset):
    services.allocate(asset, hold_data(asset), steward)
    ended = AllocationFactory(asset=asset, subjects=True, right="delete")
    services.end_allocation(ended, steward, "x")
    client.force_login(registrar)
    response = client.get(asset.get_absolute_url())
    assert [a.right for a in response.context["allocations"]] == ["hold"]
    html = response.content.decode()
    assert rights_url(asset) in html and "Holding (持有权)" in html
    assert "Right to deletion" not in html


def test_the_asset_page_summary_is_for_signed_in_users(client, hospital):
    open_asset = DataAssetFactory(holder=hospital, open=True)
    AllocationFactory(asset=open_asset)
    response = client.get(open_asset.get_absolute_url())
    assert response.status_code == 200 and "allocations" not in response.context
    assert rights_url(open_asset) not in response.content.decode()
