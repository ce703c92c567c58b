"""The registration certificate (登记证书): one A4 page in PDF for an approved registration.

Drawn with reportlab in a Chinese TrueType font that is embedded in the PDF (as a subset of
the glyphs used), so that the certificate reads the same in any viewer. The font is looked
up by :mod:`catalog.pdf_fonts` (a Debian package, or the path in ``HDC_CJK_FONT``; TrueType
only). Without a usable font the certificate is refused with
:class:`CertificateUnavailable`, whose message says what to install.

The labels follow the active language (or ``language``): 简体中文 by default, English on
request; ledger values are shown as entered.
"""

from __future__ import annotations

import io
import re

from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from accounts.choices import InstitutionType, Role
from accounts.models import Institution, Membership
from catalog import pdf_fonts
from catalog.choices import AssetStatus
from catalog.pdf_fonts import CJKFont, FontUnavailable

from .choices import ApplicationKind, ApplicationState

INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#52606d")
ACCENT = colors.HexColor("#9b1c1c")  # the red of official seals and titles
RULE = colors.HexColor("#c9ced6")
LABEL_BACKGROUND = colors.HexColor("#f5f1ea")

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 24 * mm  # inside the double border
FOOTER_HEIGHT = 14 * mm  # kept free above the bottom margin for the verification line
SCALES = (1.0, 0.85, 0.72)  # of the text and spaces, tried in turn until all fits on a page
CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")


class CertificateUnavailable(FontUnavailable):
    """No certificate can be drawn here (no usable Chinese font); the message says why and
    what to install, for the user and the operator."""


def cjk_font() -> CJKFont:
    """The registered Chinese font, or :class:`CertificateUnavailable`."""
    try:
        return pdf_fonts.cjk_font()
    except FontUnavailable as unavailable:
        if unavailable.path is None:
            raise CertificateUnavailable(_(
                "Certificates cannot be made on this server: no Chinese TrueType font was "
                "found. Install the Debian package fonts-wqy-microhei, or set HDC_CJK_FONT to "
                "the path of a TrueType font (.ttf or .ttc) with Chinese characters."
            )) from None
        raise CertificateUnavailable(_(
            "Certificates cannot be made on this server: the font %(path)s cannot be "
            "embedded (a TrueType font, .ttf or .ttc, is needed; OpenType/CFF fonts such as "
            "Noto CJK are not supported). Install the Debian package fonts-wqy-microhei, or "
            "set HDC_CJK_FONT to another font."
        ) % {"path": unavailable.path}, path=unavailable.path) from None


# --- What the certificate states ------------------------------------------------------------


def issuing_commission(application) -> Institution | None:
    """The commission at which the reviewer is a steward with jurisdiction over the holder;
    the most local one if several. None when the reviewer held no such membership (an
    administrator approved it, or the membership has ended since)."""
    region = application.asset.holder.region
    covering = {}
    if region is not None:
        covering = {region.province_id: 1, region.city_id: 2, region.code: 3}
    best, best_rank = None, -1
    memberships = Membership.objects.filter(
        user_id=application.decided_by_id, role=Role.STEWARD, is_active=True,
        institution__is_active=True, institution__type=InstitutionType.HEALTH_COMMISSION,
    ).select_related("institution").order_by("institution_id")
    for membership in memberships:
        commission = membership.institution
        rank = 0 if commission.region_id is None else covering.get(commission.region_id, -1)
        if rank > best_rank:
            best, best_rank = commission, rank
    return best


def _date(value) -> str:
    if value is None:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return formats.date_format(value, "DATE_FORMAT")


def _facts(asset) -> list[tuple[str, str]]:
    def label(field: str) -> str:
        return capfirst(asset._meta.get_field(field).verbose_name)

    name = asset.name
    if asset.name_en and translation.get_language() == "en":
        name = f"{asset.name} ({asset.name_en})"
    return [
        (label("name"), name),
        (label("code"), asset.code),
        (label("holder"), asset.holder.name),
        (label("categories"), asset._meta.get_field("categories").display_text(asset.categories)),
        (label("grade"), asset.get_grade_display()),
        (label("sharing_type"), asset.get_sharing_type_display()),
        (label("update_frequency"), asset.get_update_frequency_display()),
        (label("responsible_person"), asset.responsible_person),
        (label("registered_at"), _date(asset.registered_at)),
    ]


# --- Drawing --------------------------------------------------------------------------------


class _Title(Flowable):
    """The title, centred, spaced and emboldened (the Chinese fonts have no bold face)."""

    def __init__(self, text: str, font: str, size: float, color, *, space: float = 0):
        super().__init__()
        self.text, self.font, self.size, self.color, self.space = text, font, size, color, space

    def wrap(self, avail_width, avail_height):
        self.width = avail_width
        return avail_width, self.size * 1.3

    def draw(self):
        canvas = self.canv
        text_width = (pdfmetrics.stringWidth(self.text, self.font, self.size)
                      + self.space * (len(self.text) - 1))
        canvas.saveState()
        canvas.setFillColor(self.color)
        canvas.setStrokeColor(self.color)
        canvas.setLineWidth(self.size / 40)
        text = canvas.beginText((self.width - text_width) / 2, self.size * 0.25)
        text.setFont(self.font, self.size)
        text.setCharSpace(self.space)
        text.setTextRenderMode(2)  # fill and stroke: a bolder stroke
        text.textOut(self.text)
        canvas.drawText(text)
        canvas.restoreState()


def _paragraph(text: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of plain text; Chinese text may break between any two characters."""
    text = str(text or "—")
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if CJK.search(text):
        style = ParagraphStyle(f"{style.name}-cjk", parent=style, wordWrap="CJK")
    return Paragraph(escaped, style)


def _page(footer: Paragraph):
    """Draws what every page has: the double border, and the footer at its foot."""

    def draw(canvas, _doc) -> None:
        canvas.saveState()
        canvas.setStrokeColor(ACCENT)
        canvas.setLineWidth(2.2)
        canvas.rect(12 * mm, 12 * mm, PAGE_WIDTH - 24 * mm, PAGE_HEIGHT - 24 * mm)
        canvas.setLineWidth(0.6)
        canvas.rect(14.5 * mm, 14.5 * mm, PAGE_WIDTH - 29 * mm, PAGE_HEIGHT - 29 * mm)
        footer.wrap(PAGE_WIDTH - 2 * MARGIN, FOOTER_HEIGHT)
        footer.drawOn(canvas, MARGIN, 20 * mm)  # its first line higher when it wraps
        canvas.restoreState()

    return draw


def render_certificate(application, catalog_url: str = "", *, language: str | None = None
                       ) -> bytes:
    """The certificate of an approved registration, as PDF bytes.

    ``catalog_url`` is where the asset can be verified in the catalog (its path or full
    address). ``language``: the labels' language; the active one when not given.
    Raises ValueError for an application that is not an approved registration of a
    registered asset, and :class:`CertificateUnavailable` when no font can be embedded.
    """
    if application.state != ApplicationState.APPROVED:
        raise ValueError(f"Application {application.pk} is not approved ({application.state}).")
    if application.kind != ApplicationKind.REGISTER:
        raise ValueError(f"Application {application.pk} is not a registration.")
    asset = application.asset
    if asset is None or not asset.registration_number:
        raise ValueError(f"Application {application.pk} has no registered asset.")
    if asset.status != AssetStatus.REGISTERED:
        raise ValueError(f"Asset {asset.pk} is no longer registered ({asset.status}).")
    with translation.override(language or translation.get_language() or
                              settings.LANGUAGE_CODE):
        font = cjk_font().name
        commission = issuing_commission(application)
        # Very long names would push the signature onto a second page: draw smaller then.
        for scale in SCALES:
            pdf, pages = _draw(application, asset, catalog_url, font, commission, scale)
            if pages == 1:
                break
        return pdf


def _draw(application, asset, catalog_url: str, font: str, commission, scale: float
          ) -> tuple[bytes, int]:
    """The certificate's PDF and its number of pages; text and spaces by ``scale``."""
    title = _("Health Data Asset Registration Certificate")
    english = translation.get_language() == "en"
    colon = pgettext("label separator", ": ")  # "：" in Chinese

    def space(size: float) -> Spacer:
        return Spacer(1, size * mm * scale)

    body = ParagraphStyle("body", fontName=font, fontSize=10.5 * scale, leading=16 * scale,
                          textColor=INK)
    label = ParagraphStyle("label", parent=body, textColor=MUTED)
    centred = ParagraphStyle("centred", parent=body, alignment=TA_CENTER)
    small = ParagraphStyle("small", parent=centred, fontSize=8.5, leading=12, textColor=MUTED)
    number_label = ParagraphStyle("number-label", parent=small, fontSize=10, leading=14)
    number = ParagraphStyle("number", parent=centred, fontSize=20, leading=26, textColor=INK)
    signature = ParagraphStyle("signature", parent=body, alignment=TA_LEFT,
                               leading=20 * scale)

    width = PAGE_WIDTH - 2 * MARGIN
    table = Table(
        [[_paragraph(key, label), _paragraph(value, body)] for key, value in _facts(asset)],
        colWidths=[width * 0.27, width * 0.73],
    )
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), font),  # else the cells name Helvetica, never embedded
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("BACKGROUND", (0, 0), (0, -1), LABEL_BACKGROUND),
        ("LINEABOVE", (0, 0), (-1, 0), 1, ACCENT),
        ("LINEBELOW", (0, -1), (-1, -1), 1, ACCENT),
        ("LINEBELOW", (0, 0), (-1, -2), 0.4, RULE),
        ("LEFTPADDING", (0, 0), (-1, -1), 8),
        ("RIGHTPADDING", (0, 0), (-1, -1), 8),
        ("TOPPADDING", (0, 0), (-1, -1), 5 * scale),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 5 * scale),
    ]))

    issued_by = [(_("Issued by"), commission.name)] if commission else []
    issued_by += [
        (_("Reviewer"), str(application.decided_by)),
        (_("Date of issue"), _date(application.decided_at)),
    ]
    signature_block = Table(
        [[_paragraph(f"{key}{colon}{value}", signature)] for key, value in issued_by],
        colWidths=[width * 0.5], hAlign="RIGHT",
    )
    signature_block.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), font),
        ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
    ]))

    verification = _("This certificate was generated by the system and can be verified in the "
                     "catalog")
    story = [
        space(4),
        _Title(title, font, 19 if english else 26, ACCENT, space=0 if english else 3),
        space(2),
        _paragraph(str(settings.CATALOG_SITE_NAME), small),
        space(10),
        _paragraph(capfirst(asset._meta.get_field("registration_number").verbose_name),
                   number_label),
        space(1),
        _paragraph(asset.registration_number, number),
        space(8),
        _paragraph(_("After review, the following data asset has been registered. This "
                     "certificate is hereby issued."), body),
        space(4),
        table,
        space(16),
        signature_block,
    ]
    footer = _paragraph(f"{verification}{colon}{catalog_url}" if catalog_url else verification,
                        small)

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
        bottomMargin=20 * mm + FOOTER_HEIGHT, title=f"{title} {asset.registration_number}",
        author=commission.name if commission else "", subject=asset.name,
        creator=str(settings.CATALOG_SITE_NAME), lang=translation.get_language(),
        initialFontName=font,  # no reference to an unembedded standard font
    )
    document.build(story, onFirstPage=_page(footer), onLaterPages=_page(footer))
    return buffer.getvalue(), document.page
