"""The PDF summary of the inventory report: drawn from a snapshot (as archived, through JSON),
in Chinese with its font embedded, every figure of the snapshot printed, long tables across
pages with their header repeated, and a clear refusal without a Chinese font."""

from __future__ import annotations

import copy
import io
import json
import re
import time
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.utils import translation
from django.utils.translation import gettext as _
from pypdf import PdfReader

from catalog.pdf_fonts import FontUnavailable
from reports.figures import build_report
from reports.pdf import ReportPDFUnavailable, write_pdf
from reports.snapshot import take_snapshot

from ..factories import region

pytestmark = pytest.mark.django_db


def snapshot_of(world, user_key: str = "province_steward", scope=None) -> dict:
    """The snapshot the view takes, as the archive keeps it (through JSON)."""
    snapshot = take_snapshot(build_report(world.users[user_key], {}), scope=scope)
    return json.loads(json.dumps(snapshot))


def render(snapshot: dict) -> bytes:
    out = io.BytesIO()
    write_pdf(snapshot, out)
    return out.getvalue()


def pages_of(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def share(count: int, total: int) -> str:
    value = (Decimal(100 * count) / total).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{value}%"


def row_pattern(*cells) -> re.Pattern:
    """The cells of one table row, in order (pypdf puts each on its own line)."""
    return re.compile(r"\s+".join(re.escape(str(cell)) for cell in cells))


def test_the_pdf_prints_every_figure_of_the_snapshot_in_chinese(world):
    with translation.override("zh-hans"):
        snapshot = snapshot_of(world)
        pdf = render(snapshot)
    assert pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata.title == "清查报表 · 全国"
    text = "\n".join(page.extract_text() for page in reader.pages)

    assert "清查报表 · 全国" in text  # the title, with the scope's name
    assert snapshot["total"] == 21 and "本辖区数据资产" in text
    for key in ("total", "findings_total", "without_holder", "grants_expiring"):
        assert re.search(rf"^\s*{snapshot[key]}\s*$", text, re.MULTILINE), key
    assert "未配置持有权的已登记资产" in text and "30 天内到期的访问授权" in text
    assert "筛选" in text

    total = snapshot["total"]
    breakdowns = [b for b in snapshot["breakdowns"] if b["rows"]]
    assert len(breakdowns) >= 8
    for breakdown in breakdowns:
        assert breakdown["label"] in text
        for row in breakdown["rows"]:
            assert row_pattern(row["label"], row["count"], share(row["count"], total)).search(
                text), (breakdown["key"], row)

    assert "清查结果" in text
    for finding in snapshot["findings"]:
        assert row_pattern(finding["label"], finding["severity_label"],
                           finding["count"]).search(text)
    for row in snapshot["stale_institutions"]:
        assert row_pattern(row["label"], row["count"]).search(text)
    assert "趋势" in text and len(snapshot["runs"]) == 2
    for run in snapshot["runs"]:
        assert row_pattern(run["found"], run["new"], run["resolved"]).search(text)
    assert "每月登记数" in text
    month = {row["label"][5:]: row["count"] for row in snapshot["registered_by_month"]}
    assert month == {"01": 9, "03": 7}
    assert row_pattern("2025", 9, 7, 16).search(text)  # the year's row: Jan, Mar and total

    pages = len(reader.pages)
    for number, page in enumerate(reader.pages, start=1):
        assert f"第 {number} 页，共 {pages} 页" in page.extract_text()


def test_every_font_of_the_pdf_is_embedded(world):
    pdf = render(snapshot_of(world))
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            assert font["/Subtype"] == "/TrueType", font["/BaseFont"]
            assert "/FontFile2" in font["/FontDescriptor"].get_object()


def test_the_scope_names_the_region_reported_on(world):
    with translation.override("zh-hans"):
        pdf = render(snapshot_of(world, scope=region("33")))
    assert "清查报表 · 浙江省" in pages_of(pdf)[0]


def test_the_headings_follow_the_active_language_and_the_labels_the_snapshot(world):
    with translation.override("zh-hans"):
        snapshot = snapshot_of(world)
    with translation.override("en"):
        text = "\n".join(pages_of(render(snapshot)))
    assert "Inventory report · 全国" in text
    assert "Page 1 of" in text
    assert "持有机构" in text  # the snapshot's label, as it was taken


def large_snapshot(world, holders: int = 400) -> dict:
    """The world's snapshot with ``holders`` holding institutions, as a national report's
    longest breakdown would have, and 10 years of months."""
    snapshot = copy.deepcopy(snapshot_of(world))
    rows = [
        {"value": str(i), "label": f"测试第{i:03d}人民医院", "count": 5000 - 10 * i, "drill": ""}
        for i in range(holders)
    ]
    holder = next(b for b in snapshot["breakdowns"] if b["key"] == "holder")
    holder["rows"] = rows
    snapshot["total"] = sum(row["count"] for row in rows)
    snapshot["registered_by_month"] = [
        {"value": f"{2016 + m // 12}-{1 + m % 12:02d}-01",
         "label": f"{2016 + m // 12}-{1 + m % 12:02d}", "count": 100 + m}
        for m in range(120)
    ]
    return snapshot


def test_a_long_breakdown_runs_over_pages_with_its_header_repeated(world):
    with translation.override("zh-hans"):
        snapshot = large_snapshot(world)
        started = time.perf_counter()
        pdf = render(snapshot)
        elapsed = time.perf_counter() - started
        others = _("Others (%(rows)s more)") % {"rows": 385}
    assert elapsed < 10
    pages = pages_of(pdf)
    rows = next(b for b in snapshot["breakdowns"] if b["key"] == "holder")["rows"]
    with_rows = [page for page in pages if "测试第3" in page]  # rows 300 to 399
    assert len(with_rows) >= 2
    for page in with_rows:  # the header, on every page of the table
        assert row_pattern("持有机构", "数据资产", _("Share")).search(page)
    text = "\n".join(pages)
    for row in rows:
        assert row_pattern(row["label"], row["count"]).search(text), row
    # The chart draws the first 15 and sums the other 385.
    rest = sum(row["count"] for row in rows[15:])
    assert others in text
    assert re.search(rf"^\s*{rest}\s*$", text, re.MULTILINE)
    for year in range(2016, 2026):
        assert re.search(rf"^{year}$", text, re.MULTILINE)


def test_an_empty_report_still_prints(world):
    snapshot = {
        "version": 1, "generated_at": "2025-06-01T02:30:00+00:00",
        "scope": {"code": None, "name": "全国"}, "filters": [["数据类别", "健康状况"]],
        "total": 0, "breakdowns": [{"key": "holder", "label": "持有机构", "rows": []}],
        "findings": [], "findings_total": 0, "stale_institutions": [], "without_holder": 0,
        "grants_expiring": 0, "runs": [], "registered_by_month": [],
    }
    with translation.override("zh-hans"):
        text = "\n".join(pages_of(render(snapshot)))
    assert "2025年6月1日 10:30" in text  # in the local time zone
    assert "数据类别：健康状况" in text
    assert "持有机构" in text and "无。" in text
    assert "本辖区尚无已完成的运行。" in text and "尚无已登记的资产。" in text


def test_without_a_chinese_font_the_message_says_what_to_install(world, settings):
    snapshot = snapshot_of(world)
    settings.CJK_FONT = "/nonexistent/font.ttc"
    with pytest.raises(ReportPDFUnavailable, match="fonts-wqy-microhei") as refused:
        render(snapshot)
    assert isinstance(refused.value, FontUnavailable) and refused.value.path is None


def test_an_opentype_cff_font_is_refused_with_a_message(world, settings, tmp_path):
    snapshot = snapshot_of(world)
    cff = tmp_path / "NotoSansCJK-Regular.otf"
    cff.write_bytes(b"OTTO" + bytes(64))
    settings.CJK_FONT = str(cff)
    with pytest.raises(ReportPDFUnavailable, match="TrueType") as refused:
        render(snapshot)
    assert refused.value.path == str(cff)
