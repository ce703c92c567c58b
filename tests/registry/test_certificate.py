"""The registration certificate: a PDF of an approved registration, in Chinese by default,
with its Chinese font embedded; English labels on request; refused when not approved."""

from __future__ import annotations

import io

import pytest
from django.utils import translation
from pypdf import PdfReader

from accounts.choices import Role
from catalog.choices import AssetStatus
from registry import workflow
from registry.certificate import CertificateUnavailable, issuing_commission, render_certificate
from registry.choices import ApplicationKind, Transition

from ..factories import MembershipFactory
from .conftest import ledger_data

pytestmark = pytest.mark.django_db

CATALOG_URL = "/catalog/assets/1/"


@pytest.fixture
def approved(registrar, hospital, steward):
    application = workflow.create(ApplicationKind.REGISTER, institution_id=hospital.pk,
                                  actor=registrar)
    workflow.save_draft(application.pk, actor=registrar, payload=ledger_data())
    workflow.take(application.pk, Transition.SUBMIT, actor=registrar)
    return workflow.take(application.pk, Transition.APPROVE, actor=steward, comment="同意")


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_certificate_states_the_registration_in_chinese(approved, hospital,
                                                            province_commission):
    with translation.override("zh-hans"):  # the site's default language
        pdf = render_certificate(approved, CATALOG_URL)
    assert pdf.startswith(b"%PDF-")
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    text = text_of(pdf)
    number = approved.asset.registration_number
    for expected in ("健康医疗数据资产登记证书", number, hospital.name, "住院病案首页数据",
                     "REG-0001", "持有机构", "敏感级别", "健康状况", "张三",
                     province_commission.name, "本证书由系统生成，可在目录中核验", CATALOG_URL):
        assert expected in text, expected
    assert "Registration Certificate" not in text


def test_the_chinese_font_is_embedded(approved):
    page = PdfReader(io.BytesIO(render_certificate(approved, CATALOG_URL))).pages[0]
    fonts = [font.get_object() for font in page["/Resources"]["/Font"].values()]
    assert fonts
    for font in fonts:
        if font["/Subtype"] == "/Type0":
            font = font["/DescendantFonts"][0].get_object()
        descriptor = font["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor or "/FontFile3" in descriptor, font["/BaseFont"]
        # A subset (ABCDEF+Name), not the whole font.
        assert font["/BaseFont"][7:8] == "+", font["/BaseFont"]


def test_english_labels_on_request(approved, hospital):
    with translation.override("en"):
        pdf = render_certificate(approved, CATALOG_URL)
    text = text_of(pdf)
    for expected in ("Health Data Asset Registration Certificate", "Holding institution",
                     "Sensitivity grade", "Registration number", "Issued by",
                     approved.asset.registration_number, hospital.name):
        assert expected in text, expected
    assert "登记证书" not in text and "持有机构" not in text
    # The language may also be given: the active one is then left alone.
    with translation.override("zh-hans"):
        assert "Holding institution" in text_of(render_certificate(approved, language="en"))
        assert translation.get_language() == "zh-hans"


def test_a_registration_that_is_not_approved_has_no_certificate(registrar, hospital):
    application = workflow.create(ApplicationKind.REGISTER, institution_id=hospital.pk,
                                  actor=registrar)
    workflow.save_draft(application.pk, actor=registrar, payload=ledger_data())
    with pytest.raises(ValueError, match="not approved"):
        render_certificate(application, CATALOG_URL)
    submitted = workflow.take(application.pk, Transition.SUBMIT, actor=registrar)
    with pytest.raises(ValueError, match="not approved"):
        render_certificate(submitted, CATALOG_URL)


def test_without_a_chinese_font_the_message_says_what_to_install(approved, settings):
    settings.CJK_FONT = "/nonexistent/font.ttc"
    with pytest.raises(CertificateUnavailable, match="fonts-wqy-microhei"):
        render_certificate(approved, CATALOG_URL)
    with pytest.raises(CertificateUnavailable, match="无法生成证书"):
        render_certificate(approved, CATALOG_URL, language="zh-hans")


def test_an_opentype_cff_font_is_refused_with_a_message(approved, settings, tmp_path):
    cff = tmp_path / "NotoSansCJK-Regular.otf"
    cff.write_bytes(b"OTTO" + bytes(64))
    settings.CJK_FONT = str(cff)
    with pytest.raises(CertificateUnavailable, match="TrueType"):
        render_certificate(approved, CATALOG_URL)


def test_a_deregistered_asset_has_no_certificate(approved):
    approved.asset.status = AssetStatus.DEREGISTERED
    with pytest.raises(ValueError, match="no longer registered"):
        render_certificate(approved, CATALOG_URL)


def test_the_issuing_commission_is_the_reviewers_most_local_one(approved, steward,
                                                                county_commission):
    assert issuing_commission(approved).name == "浙江省卫生健康委员会"
    MembershipFactory(user=steward, institution=county_commission, role=Role.STEWARD)
    assert issuing_commission(approved) == county_commission
    assert county_commission.name in text_of(render_certificate(approved, CATALOG_URL))
