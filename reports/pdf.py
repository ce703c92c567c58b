"""The inventory report as a PDF summary on A4: key figures, every breakdown as a chart and a
table, the findings, the overdue institutions and the trends.

Drawn from the report's snapshot (``reports.snapshot.take_snapshot``), never from the
database, so that an archived report prints as it read the day it was taken. The snapshot's
own labels are already in the language of that day; the PDF's headings follow the active
language. Chinese is drawn in the TrueType font of :mod:`catalog.pdf_fonts`, embedded as a
subset, in the text and in the charts alike; without one :class:`ReportPDFUnavailable` says
what to install.

Charts show the first ``CHART_ROWS`` rows of a breakdown and one bar (or slice) for the rest;
the tables list every row and repeat their header on each page.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import BinaryIO
from xml.sax.saxutils import escape

from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils import formats, timezone, translation
from django.utils.dates import MONTHS_3
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.doughnut import Doughnut
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, Line, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from catalog import pdf_fonts
from catalog.pdf_fonts import FontUnavailable

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 18 * mm
FOOTER_SPACE = 10 * mm  # below the frame, for the footer line
WIDTH = PAGE_WIDTH - 2 * MARGIN

INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#52606d")
ACCENT = colors.HexColor("#9b1c1c")  # the red of the certificate's titles
BAR = colors.HexColor("#2f6690")
REST = colors.HexColor("#9aa5b1")  # the "others" bar or slice
RULE = colors.HexColor("#c9ced6")
GRID = colors.HexColor("#e4e7eb")
HEADER_BACKGROUND = colors.HexColor("#f5f1ea")
STRIPE = colors.HexColor("#f8f9fa")
# Slices of a donut, in turn; distinguishable in print and for most colour vision.
PALETTE = [colors.HexColor(c) for c in (
    "#2f6690", "#d1495b", "#edae49", "#66a182", "#8e6c8a", "#00798c", "#c46d2b", "#3a3a3a",
)]
SEVERITY_COLOURS = {4: ACCENT, 3: colors.HexColor("#b45309")}

CHART_ROWS = 15  # bars drawn for a breakdown; the rest summed in one "others" bar
DONUT_ROWS = len(PALETTE) - 1  # slices drawn; the rest summed in one slice
DONUT_BREAKDOWNS = {"grade", "sharing_type", "security_class", "status"}  # parts of a whole
AXIS_LABELS = 12  # at most this many category labels under a line chart
BAR_PITCH = 15  # points per bar
LABEL_SIZE = 7.5  # chart labels
CELL_SIZE = 8.5  # table text
CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")
KEPT_ROWS = 25  # a table this short is kept on one page with its heading and chart


class ReportPDFUnavailable(FontUnavailable):
    """No PDF summary can be drawn here (no usable Chinese font); the message says why and
    what to install, for the user and the operator."""


def cjk_font() -> str:
    """The name of the registered Chinese font, or :class:`ReportPDFUnavailable`."""
    try:
        return pdf_fonts.cjk_font().name
    except FontUnavailable as unavailable:
        if unavailable.path is None:
            raise ReportPDFUnavailable(_(
                "The PDF report cannot be made on this server: no Chinese TrueType font was "
                "found. Install the Debian package fonts-wqy-microhei, or set HDC_CJK_FONT to "
                "the path of a TrueType font (.ttf or .ttc) with Chinese characters."
            )) from None
        raise ReportPDFUnavailable(_(
            "The PDF report cannot be made on this server: the font %(path)s cannot be "
            "embedded (a TrueType font, .ttf or .ttc, is needed). Install the Debian package "
            "fonts-wqy-microhei, or set HDC_CJK_FONT to another font."
        ) % {"path": unavailable.path}, path=unavailable.path) from None


def write_pdf(snapshot: dict, out: BinaryIO) -> None:
    """Write the PDF summary of the report ``snapshot`` to the binary file ``out``.

    Raises :class:`ReportPDFUnavailable` when no Chinese font can be embedded.
    """
    font = cjk_font()
    title = _("Inventory report")
    scope = snapshot.get("scope", {}).get("name") or ""
    heading = snapshot.get("title") or (f"{title} · {scope}" if scope else title)
    draw = _Drawer(font)

    story = [
        draw.text(heading, "title"),
        draw.text(settings.CATALOG_SITE_NAME, "muted"),
        Spacer(1, 4 * mm),
        *draw.facts(snapshot),
        Spacer(1, 5 * mm),
        draw.key_figures(snapshot),
        Spacer(1, 4 * mm),
    ]
    total = int(snapshot.get("total") or 0)
    # The section's heading goes with its first breakdown.
    lead = [draw.text(_("What the jurisdiction holds"), "h1")]
    for breakdown in snapshot.get("breakdowns", []):
        story += draw.breakdown(breakdown, total, lead=lead)
        lead = []
    story += lead
    story += draw.findings(snapshot)
    story += draw.trends(snapshot)

    document = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
        bottomMargin=MARGIN + FOOTER_SPACE, title=heading,
        author=str(settings.CATALOG_SITE_NAME), creator=str(settings.CATALOG_SITE_NAME),
        subject=title, lang=translation.get_language(),
        initialFontName=font,  # no reference to an unembedded standard font
    )
    document.build(story, canvasmaker=_numbered_canvas(font, heading))


# --- The page around the story ---------------------------------------------------------------


def _numbered_canvas(font: str, heading: str) -> type[Canvas]:
    """A canvas that holds its pages back until the end, then gives each its footer with
    "page x of y"."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._held: list[dict] = []

        def showPage(self):
            self._held.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            pages = len(self._held)
            for state in self._held:
                self.__dict__.update(state)
                self._footer(pages)
                super().showPage()
            super().save()

        def _footer(self, pages: int) -> None:
            y = MARGIN
            self.saveState()
            self.setStrokeColor(RULE)
            self.setLineWidth(0.5)
            self.line(MARGIN, y + 10, PAGE_WIDTH - MARGIN, y + 10)
            self.setFont(font, 7.5)
            self.setFillColor(MUTED)
            self.drawString(MARGIN, y, _fit(heading, font, 7.5, WIDTH * 0.7))
            self.drawRightString(PAGE_WIDTH - MARGIN, y, _(
                "Page %(number)s of %(total)s") % {"number": self.getPageNumber(), "total": pages})
            self.restoreState()

    return NumberedCanvas


# --- Formatting ------------------------------------------------------------------------------


def _number(value) -> str:
    return str(intcomma(int(value or 0)))


def _share(count: int, total: int) -> str:
    if not total:
        return "—"
    # Rounded here: number_format cuts the digits it does not show.
    share = (Decimal(100 * count) / total).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{formats.number_format(share, 1)}%"


def _datetime(value: str | None, format_name: str = "DATETIME_FORMAT") -> str:
    if not value:
        return "—"
    moment = datetime.fromisoformat(value)
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return formats.date_format(moment, format_name)


def _fit(text: str, font: str, size: float, width: float) -> str:
    """``text``, cut with an ellipsis to ``width`` points."""
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def _nice_step(largest: float, ticks: int = 5) -> int:
    """A round whole step for a value axis that reaches ``largest`` in about ``ticks``."""
    if largest <= ticks:
        return 1
    raw = largest / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)


def _value_axis(axis, largest: float, font: str) -> None:
    step = _nice_step(largest)
    axis.valueMin = 0
    axis.valueMax = max(step, math.ceil(largest / step) * step)
    axis.valueStep = step
    axis.labels.fontName = font
    axis.labels.fontSize = LABEL_SIZE - 0.5
    axis.labels.fillColor = MUTED
    axis.labelTextFormat = _number
    axis.strokeColor = RULE
    axis.visibleGrid = 1
    axis.gridStrokeColor = GRID
    axis.gridStrokeWidth = 0.5


def _top(rows: list[dict], shown: int) -> list[tuple[str, int]]:
    """The first ``shown`` rows as (label, count) and, when more, one row for the rest."""
    top = [(str(row["label"]), int(row["count"])) for row in rows[:shown]]
    rest = sum(int(row["count"]) for row in rows[shown:])
    if len(rows) > shown:
        top.append((_("Others (%(rows)s more)") % {"rows": _number(len(rows) - shown)}, rest))
    return top


def _every_month(months: list[dict]) -> list[tuple[str, int]]:
    """(label, count) of every month from the first to the last, 0 for those without a
    registration (the snapshot lists only months with some), so that a line reads as time.
    As they come when the values are not months."""
    found = {}
    try:
        for row in months:
            found[date.fromisoformat(str(row["value"])[:10]).replace(day=1)] = int(row["count"])
    except (KeyError, ValueError):
        return [(str(row["label"]), int(row["count"])) for row in months]
    first, last = min(found), max(found)
    points = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        points.append((f"{year}-{month:02d}", found.get(date(year, month, 1), 0)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return points


class _Drawer:
    """Makes the flowables of the story, all in the one Chinese font."""

    def __init__(self, font: str):
        self.font = font
        body = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=14, textColor=INK)
        self.styles = {
            "body": body,
            "muted": ParagraphStyle("muted", parent=body, textColor=MUTED, fontSize=8.5,
                                    leading=12),
            "title": ParagraphStyle("title", parent=body, fontSize=20, leading=26,
                                    textColor=ACCENT, spaceAfter=2),
            "h1": ParagraphStyle("h1", parent=body, fontSize=14, leading=20, textColor=ACCENT,
                                 spaceBefore=6, spaceAfter=6, keepWithNext=1),
            "h2": ParagraphStyle("h2", parent=body, fontSize=11, leading=16, spaceBefore=8,
                                 spaceAfter=4, keepWithNext=1),
            "cell": ParagraphStyle("cell", parent=body, fontSize=CELL_SIZE, leading=11),
            "figure": ParagraphStyle("figure", parent=body, fontSize=18, leading=22,
                                     alignment=TA_CENTER),
            "figure-label": ParagraphStyle("figure-label", parent=body, fontSize=8,
                                           leading=11, alignment=TA_CENTER, textColor=MUTED),
        }
        # The same, breaking lines between any two Chinese characters (not inside words).
        self.cjk_styles = {
            name: ParagraphStyle(f"{name}-cjk", parent=style, wordWrap="CJK")
            for name, style in self.styles.items()
        }

    def text(self, text: str, style: str = "body") -> Paragraph:
        text = str(text)
        styles = self.cjk_styles if CJK.search(text) else self.styles
        return Paragraph(escape(text), styles[style])

    def drawing(self, width: float, height: float) -> Drawing:
        drawing = Drawing(width, height)
        # Else each drawing starts by naming Helvetica, a font the PDF does not embed.
        drawing.initialFontName = self.font
        drawing.initialFontSize = LABEL_SIZE
        return drawing

    @staticmethod
    def section(headings: list, *flowables, rows: int, reserve: float = 0) -> list:
        """The ``headings`` and what follows them: on one page when the table is short
        (``rows``), else starting on a page with ``reserve`` points left for the chart and
        the first rows."""
        if rows <= KEPT_ROWS:
            return [KeepTogether([*headings, *flowables])]
        return [CondPageBreak(reserve + 90 + 25 * len(headings)), *headings, *flowables]

    # --- The head of the first page ---

    def facts(self, snapshot: dict) -> list:
        colon = pgettext("label separator", ": ")  # "：" in Chinese
        filters = snapshot.get("filters") or []
        chosen = (
            pgettext("list separator", "; ").join(f"{k}{colon}{v}" for k, v in filters)
            if filters else _("none: every data asset in scope")
        )
        return [
            self.text(_("Generated at %(time)s") % {
                "time": _datetime(snapshot.get("generated_at"))}),
            self.text(f"{_('Filters')}{colon}{chosen}"),
        ]

    def key_figures(self, snapshot: dict) -> Table:
        figures = [
            (snapshot.get("total"), _("Data assets in scope")),
            (snapshot.get("findings_total"), _("Current findings")),
            (snapshot.get("without_holder"), _("Registered assets without a holding right")),
            (snapshot.get("grants_expiring"), _("Access permissions ending within 30 days")),
        ]
        table = Table(
            [[self.text(_number(n), "figure") for n, _label in figures],
             [self.text(label, "figure-label") for _n, label in figures]],
            colWidths=[WIDTH / len(figures)] * len(figures),
        )
        table.setStyle(TableStyle([
            ("FONT", (0, 0), (-1, -1), self.font),
            ("BACKGROUND", (0, 0), (-1, -1), HEADER_BACKGROUND),
            ("LINEBEFORE", (1, 0), (-1, -1), 2, colors.white),
            ("LINEABOVE", (0, 0), (-1, 0), 1.5, ACCENT),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, 0), 8),
            ("BOTTOMPADDING", (0, -1), (-1, -1), 8),
        ]))
        return table

    # --- Tables ---

    def table(self, header: list[str], rows: list[list], widths: list[float],
              *, numeric_from: int = 1, swatches: list | None = None, size: float = CELL_SIZE,
              padding: float = 4) -> Table:
        """A table with a header repeated on every page; columns from ``numeric_from`` on
        are right-aligned numbers. Text that does not fit its column wraps."""
        inner = [w - 2 * padding for w in widths]

        def cell(value, column: int):
            value = str(value)
            if column < numeric_from and stringWidth(value, self.font, size) > inner[column]:
                return self.text(value, "cell")
            return value

        data = [[self.text(h, "cell") if stringWidth(h, self.font, size) > inner[i] else h
                 for i, h in enumerate(header)]]
        data += [[cell(value, i) for i, value in enumerate(row)] for row in rows]
        table = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
        style = [
            ("FONT", (0, 0), (-1, -1), self.font, size),
            ("TEXTCOLOR", (0, 0), (-1, -1), INK),
            ("TEXTCOLOR", (0, 0), (-1, 0), MUTED),
            ("BACKGROUND", (0, 0), (-1, 0), HEADER_BACKGROUND),
            ("LINEABOVE", (0, 0), (-1, 0), 1, ACCENT),
            ("LINEBELOW", (0, 0), (-1, 0), 0.5, RULE),
            ("LINEBELOW", (0, -1), (-1, -1), 0.5, RULE),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, STRIPE]),
            ("ALIGN", (numeric_from, 0), (-1, -1), "RIGHT"),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), 2.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3.5),
            ("LEFTPADDING", (0, 0), (-1, -1), padding),
            ("RIGHTPADDING", (0, 0), (-1, -1), padding),
        ]
        for index, colour in enumerate(swatches or [], start=1):
            style.append(("LINEBEFORE", (0, index), (0, index), 5, colour, "butt"))
        table.setStyle(TableStyle(style))
        return table

    def count_table(self, label: str, rows: list[dict], total: int, width: float,
                    swatches: list | None = None) -> Table:
        numbers = 62
        return self.table(
            [label, _("Data assets"), _("Share")],
            [[row["label"], _number(row["count"]), _share(int(row["count"]), total)]
             for row in rows],
            [width - 2 * numbers, numbers, numbers], swatches=swatches,
        )

    # --- Charts ---

    def bar_chart(self, rows: list[tuple[str, int]], width: float, *, rest: bool = False
                  ) -> Drawing:
        """Horizontal bars, first row at the top, labels at the left, counts at the ends;
        ``rest``: the last row sums the rows not drawn (in grey)."""
        label_width = min(170, max(stringWidth(label, self.font, LABEL_SIZE)
                                   for label, _n in rows) + 2)
        labels = [_fit(label, self.font, LABEL_SIZE, label_width) for label, _n in rows]
        counts = [n for _label, n in rows]
        drawn = list(counts)
        largest = max(counts) or 1
        # A sum of the rest far longer than the longest bar is cut at the axis' end (and
        # marked so), to leave the bars of the rows readable; its label tells the true sum.
        cut = rest and len(counts) > 1 and counts[-1] > 1.2 * max(counts[:-1])
        if cut:
            largest = max(counts[:-1]) or 1
        axis_space = 14
        drawing = self.drawing(width, len(rows) * BAR_PITCH + axis_space + 4)
        chart = HorizontalBarChart()
        chart.x = label_width + 6
        chart.y = axis_space
        chart.width = width - chart.x - 36  # the count after the longest bar
        chart.height = len(rows) * BAR_PITCH
        _value_axis(chart.valueAxis, largest, self.font)
        if cut:
            drawn[-1] = chart.valueAxis.valueMax
        chart.data = [drawn]
        chart.barSpacing = 0
        chart.groupSpacing = 4
        chart.bars.strokeColor = None
        chart.bars[0].fillColor = BAR
        if rest:
            chart.bars[(0, len(rows) - 1)].fillColor = REST
        chart.barLabelFormat = "values"
        chart.barLabelArray = [[_number(n) for n in counts]]
        chart.barLabels.fontName = self.font
        chart.barLabels.fontSize = LABEL_SIZE - 0.5
        chart.barLabels.boxAnchor = "w"
        chart.barLabels.dx = 3
        chart.barLabels.fillColor = INK
        axis = chart.categoryAxis
        axis.categoryNames = labels
        axis.reverseDirection = 1  # the first row at the top
        axis.labels.fontName = self.font
        axis.labels.fontSize = LABEL_SIZE
        axis.labels.boxAnchor = "e"
        axis.labels.dx = -4
        axis.labels.fillColor = INK
        axis.strokeColor = RULE
        axis.visibleTicks = 0
        drawing.add(chart)
        if cut:  # two white strokes across the end of the cut bar (at the bottom)
            slot = chart.height / len(rows)
            for dx in (0, 4):
                x = chart.x + chart.width * 0.9 + dx
                drawing.add(Line(x - 2, chart.y + 1, x + 2, chart.y + slot - 1,
                                 strokeColor=colors.white, strokeWidth=1.5))
        return drawing

    def donut(self, rows: list[tuple[str, int]], size: float = 120) -> Drawing:
        """A donut of the rows' counts with their sum in the hole."""
        drawing = self.drawing(size + 8, size + 8)
        chart = Doughnut()
        chart.x = chart.y = 4
        chart.width = chart.height = size
        chart.data = [max(n, 0) for _label, n in rows] or [1]
        chart.labels = None
        chart.innerRadiusFraction = 0.55
        chart.slices.strokeColor = colors.white
        chart.slices.strokeWidth = 1
        for index in range(len(rows)):
            chart.slices[index].fillColor = self.slice_colour(index, len(rows))
        drawing.add(chart)
        total = _number(sum(n for _label, n in rows))
        drawing.add(String(4 + size / 2, 4 + size / 2 - 5, total, fontName=self.font,
                           fontSize=12, fillColor=INK, textAnchor="middle"))
        return drawing

    @staticmethod
    def slice_colour(index: int, count: int):
        if count > DONUT_ROWS and index == count - 1:
            return REST
        return PALETTE[index % len(PALETTE)]

    def line_chart(self, categories: list[str], series: list[tuple[str, list[int], object]],
                   width: float, height: float = 150) -> Drawing:
        """Lines over the categories (runs, months), with a legend above when several."""
        drawing = self.drawing(width, height)
        chart = HorizontalLineChart()
        legend_space = 18 if len(series) > 1 else 4
        chart.x = 40
        chart.y = 34  # room for the slanted category labels
        chart.width = width - chart.x - 10
        chart.height = height - chart.y - legend_space
        chart.data = [values for _label, values, _colour in series]
        chart.joinedLines = 1
        for index, (_label, _values, colour) in enumerate(series):
            chart.lines[index].strokeColor = colour
            chart.lines[index].strokeWidth = 1.5
            if len(categories) <= 2 * AXIS_LABELS:  # else the dots would crowd the line
                chart.lines[index].symbol = makeMarker("FilledCircle", size=3.5,
                                                       fillColor=colour, strokeColor=colour)
        # Every label, else every 2nd, 3rd, 6th, 12th… (whole quarters and years of months)
        every = next(k for k in (1, 2, 3, 6, *range(12, len(categories) + 12, 12))
                     if len(categories) <= k * AXIS_LABELS)
        axis = chart.categoryAxis
        axis.categoryNames = [
            name if index % every == 0 else "" for index, name in enumerate(categories)
        ]
        axis.labels.fontName = self.font
        axis.labels.fontSize = LABEL_SIZE - 0.5
        axis.labels.angle = 30
        axis.labels.boxAnchor = "ne"
        axis.labels.dy = -2
        axis.labels.fillColor = INK
        axis.strokeColor = RULE
        largest = max((max(values, default=0) for _l, values, _c in series), default=0)
        _value_axis(chart.valueAxis, largest or 1, self.font)
        drawing.add(chart)
        if len(series) > 1:
            legend = Legend()
            legend.x = chart.x
            legend.y = height - 4
            legend.fontName = self.font
            legend.fontSize = LABEL_SIZE
            legend.alignment = "right"
            legend.columnMaximum = 1
            legend.deltax = 0
            legend.dx = legend.dy = 7
            legend.dxTextSpace = 4
            legend.variColumn = 1
            legend.colorNamePairs = [(colour, label) for label, _values, colour in series]
            drawing.add(legend)
        return drawing

    # --- Sections ---

    def breakdown(self, breakdown: dict, total: int, *, lead: list = ()) -> list:
        """A breakdown's heading (after ``lead``), chart and table."""
        label = str(breakdown.get("label", ""))
        rows = breakdown.get("rows") or []
        headings = [*lead, self.text(label, "h2")]
        if not rows:
            return [KeepTogether([*headings, self.text(_("None."), "muted")])]
        note = []
        if breakdown.get("key") == "category":
            note = [Spacer(1, 2), self.text(_(
                "An asset may belong to several categories: the shares may add up to more "
                "than 100%."), "muted")]
        if breakdown.get("key") in DONUT_BREAKDOWNS and len(rows) <= 2 * DONUT_ROWS:
            shown = _top(rows, DONUT_ROWS)
            chart = self.donut(shown)
            swatches = [self.slice_colour(min(i, len(shown) - 1), len(shown))
                        for i in range(len(rows))]
            gap = 8 * mm
            table = self.count_table(label, rows, total, WIDTH - chart.width - gap,
                                     swatches=swatches)
            side = Table([[chart, table]], colWidths=[chart.width + gap, None])
            side.setStyle(TableStyle([
                ("FONT", (0, 0), (-1, -1), self.font),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
            ]))
            return [KeepTogether([*headings, side, *note])]
        chart = self.bar_chart(_top(rows, CHART_ROWS), WIDTH, rest=len(rows) > CHART_ROWS)
        table = self.count_table(label, rows, total, WIDTH)
        return self.section(headings, chart, Spacer(1, 3 * mm), table, *note,
                            rows=len(rows), reserve=chart.height)

    def findings(self, snapshot: dict) -> list:
        total = int(snapshot.get("findings_total") or 0)
        summary = self.text(ngettext(
            "%(total)s current finding on these assets",
            "%(total)s current findings on these assets", total,
        ) % {"total": _number(total)}, "muted")
        rows = snapshot.get("findings") or []
        by_rule = []
        if rows:
            table = self.table(
                [_("Finding"), _("Severity"), _("Current")],
                [[row["label"], row["severity_label"], _number(row["count"])] for row in rows],
                [WIDTH - 150, 80, 70], numeric_from=2,
            )
            table.setStyle(TableStyle([
                ("TEXTCOLOR", (1, index), (1, index), SEVERITY_COLOURS[row["severity"]])
                for index, row in enumerate(rows, start=1)
                if row.get("severity") in SEVERITY_COLOURS
            ]))
            by_rule = [Spacer(1, 2 * mm), table]
        story = self.section([self.text(_("Inventory results"), "h1")], summary, *by_rule,
                             rows=len(rows))
        heading = self.text(_("Institutions with the most overdue assets"), "h2")
        stale = snapshot.get("stale_institutions") or []
        if not stale:
            return [*story, heading, self.text(_("No asset is overdue."), "muted")]
        table = self.table(
            [_("Institution"), _("Assets not updated within their frequency")],
            [[row["label"], _number(row["count"])] for row in stale], [WIDTH - 170, 170],
        )
        return [*story, *self.section([heading], table, rows=len(stale))]

    def trends(self, snapshot: dict) -> list:
        headings = [self.text(_("Trends"), "h1"), self.text(_("Inventory runs"), "h2")]
        runs = snapshot.get("runs") or []
        if runs:
            series = [
                (_("Found"), [int(run.get("found") or 0) for run in runs], ACCENT),
                (_("New"), [int(run.get("new") or 0) for run in runs], BAR),
                (_("Resolved since the last run"),
                 [int(run.get("resolved") or 0) for run in runs], PALETTE[3]),
            ]
            names = [_datetime(run.get("finished_at"), "SHORT_DATE_FORMAT") for run in runs]
            chart = self.line_chart(names, series, WIDTH)
            table = self.table(
                [_("Run"), _("Finished"), _("Found"), _("New"), _("Resolved since the last run")],
                [[f"{run.get('kind_label', '')} · {run.get('scope_name', '')}",
                  _datetime(run.get("finished_at")), _number(run.get("found")),
                  _number(run.get("new")), _number(run.get("resolved"))] for run in runs],
                [WIDTH - 300, 100, 55, 55, 90], numeric_from=2,
            )
            story = self.section(headings, chart, Spacer(1, 3 * mm), table, rows=len(runs),
                                 reserve=chart.height)
        else:
            story = [KeepTogether([*headings, self.text(
                _("No finished run covers this jurisdiction yet."), "muted")])]
        months = snapshot.get("registered_by_month") or []
        heading = self.text(_("Registered per month"), "h2")
        if not months:
            return [*story, heading, self.text(_("No asset registered yet."), "muted")]
        points = _every_month(months)
        chart = self.line_chart(
            [label for label, _n in points],
            [(_("Data assets"), [n for _label, n in points], BAR)], WIDTH,
        )
        table, rows = self.month_table(months)
        return [*story, *self.section([heading], chart, Spacer(1, 3 * mm), table,
                                      rows=rows, reserve=chart.height)]

    def month_table(self, months: list[dict]) -> tuple[Table, int]:
        """Registrations per month: a year a row, a month a column, and the year's total;
        and its number of rows."""
        by_year: dict[int, dict[int, int]] = {}
        try:
            for row in months:
                moment = date.fromisoformat(str(row["value"])[:10])
                by_year.setdefault(moment.year, {})[moment.month] = int(row["count"])
        except (KeyError, ValueError):  # not months: one row each, as they come
            return self.table(
                [_("Month"), _("Data assets")],
                [[row["label"], _number(row["count"])] for row in months], [WIDTH - 120, 120],
            ), len(months)
        year, total = 36, 50
        return self.table(
            [_("Year"), *(capfirst(str(MONTHS_3[month])) for month in range(1, 13)),
             _("Total")],
            [[str(y), *(_number(counts[m]) if m in counts else "" for m in range(1, 13)),
              _number(sum(counts.values()))] for y, counts in sorted(by_year.items())],
            [year, *[(WIDTH - year - total) / 12] * 12, total], size=7.5, padding=2.5,
        ), len(by_year)
