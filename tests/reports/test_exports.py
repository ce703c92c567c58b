"""Exports of the report, read back: the CSV parsed, the XLSX opened with openpyxl; both
hold exactly the scope's assets (and findings), every text cell neutralised."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from catalog.choices import AssetStatus, SharingType
from inventory.choices import CURRENT_STATUSES
from reports import sheet_rows, tables
from reports.exports import ExportSource, write_csv, write_xlsx
from reports.figures import build_report, scoped_assets
from reports.snapshot import take_snapshot

from ..factories import DataAssetFactory
from .test_report import in_scope

pytestmark = pytest.mark.django_db

HOSTILE = {
    "name": "=HYPERLINK(\"http://evil.example\",\"点此\")",
    "storage_location": "+86 机房",
    "source_system": "@SUM(A1:A9)",
}


def source(user, filters=None) -> ExportSource:
    filters = filters or {}
    return ExportSource.of(take_snapshot(build_report(user, filters)),
                           scoped_assets(user, filters))


def csv_rows(user, filters=None) -> tuple[bytes, list[list[str]]]:
    out = io.BytesIO()
    write_csv(source(user, filters), out)
    raw = out.getvalue()
    return raw, list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


@pytest.mark.parametrize("user_key", ["xihu_steward", "city_steward", "province_steward"])
def test_csv_lists_exactly_the_assets_in_scope(world, user_key):
    raw, rows = csv_rows(world.users[user_key])
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel reads the Chinese
    header, body = rows[0], rows[1:]
    assert header[:3] == ["编码", "名称", "持有机构"]
    expected = {a.code for a in world.assets if in_scope(world, user_key, a)}
    assert [row[0] for row in body] == sorted(
        (a.code for a in world.assets if a.code in expected),
        key=lambda code: next(a.pk for a in world.assets if a.code == code),
    )
    by_code = {a.code: a for a in world.assets}
    for row in body:
        asset = by_code[row[0]]
        assert row[1] == asset.name
        assert row[2] == asset.holder.name
        assert row[header.index("敏感级别")] == str(asset.grade)
        assert row[header.index("状态")] == asset.get_status_display()


def test_csv_follows_the_filters(world):
    user = world.users["province_steward"]
    chosen = {"sharing_type": SharingType.CONDITIONAL, "status": AssetStatus.REGISTERED}
    _raw, rows = csv_rows(user, dict(chosen))
    expected = {
        a.code for a in world.assets
        if in_scope(world, "province_steward", a)
        and all(getattr(a, name) == value for name, value in chosen.items())
    }
    assert {row[0] for row in rows[1:]} == expected
    assert expected


def test_csv_and_xlsx_neutralise_formulas(world):
    holder = world.institutions["xihu_a"]
    hostile = DataAssetFactory(holder=holder, **HOSTILE)
    user = world.users["xihu_steward"]
    _raw, rows = csv_rows(user)
    row = next(r for r in rows if r[0] == hostile.code)
    header = rows[0]
    assert row[header.index("名称")] == "'" + HOSTILE["name"]
    assert row[header.index("存储位置")] == "'" + HOSTILE["storage_location"]
    assert row[header.index("来源系统")] == "'" + HOSTILE["source_system"]

    out = io.BytesIO()
    write_xlsx(source(user), out)
    book = load_workbook(io.BytesIO(out.getvalue()), read_only=True)
    cells = next(r for r in book["数据资产"].iter_rows(values_only=True) if r[0] == hostile.code)
    assert cells[1] == "'" + HOSTILE["name"]
    assert not any(isinstance(c, str) and c.startswith(("=", "+", "@")) for c in cells)


def test_xlsx_has_summary_breakdowns_assets_and_findings(world):
    user = world.users["city_steward"]
    snapshot_source = source(user)
    out = io.BytesIO()
    write_xlsx(snapshot_source, out)
    book = load_workbook(io.BytesIO(out.getvalue()), read_only=True)
    assert book.sheetnames == ["摘要", "分类统计", "数据资产", "发现的问题"]

    summary = list(book["摘要"].iter_rows(values_only=True))
    in_city = [a for a in world.assets if in_scope(world, "city_steward", a)]
    assert ("本辖区数据资产", len(in_city)) in [tuple(r[:2]) for r in summary]

    breakdowns = [r for r in book["分类统计"].iter_rows(values_only=True) if r]
    labels = {r[0] for r in breakdowns}
    for breakdown in snapshot_source.snapshot["breakdowns"]:
        assert breakdown["label"] in labels
    grade_rows = {r[0]: r[1] for r in breakdowns}
    grade = next(b for b in snapshot_source.snapshot["breakdowns"] if b["key"] == "grade")
    for row in grade["rows"]:
        assert grade_rows[row["label"]] == row["count"]

    assets = list(book["数据资产"].iter_rows(values_only=True))
    assert sorted(r[0] for r in assets[1:]) == sorted(a.code for a in in_city)
    ids = {a.pk for a in in_city}
    findings = list(book["发现的问题"].iter_rows(values_only=True))
    current = [f for f in world.findings if f.asset_id in ids and f.status in CURRENT_STATUSES]
    assert sorted(r[3] for r in findings[1:]) == sorted(f.asset.code for f in current)
    assert current


@pytest.mark.parametrize("in_database", [True, False])
def test_xlsx_continues_a_long_list_on_another_sheet(world, monkeypatch, in_database):
    monkeypatch.setattr(sheet_rows, "SHEET_ROWS", 4)
    monkeypatch.setattr(sheet_rows, "SPAN_ROWS", 3)  # and a sheet in several spans
    if not in_database:
        monkeypatch.setattr(tables, "is_postgresql", lambda queryset: False)
    user = world.users["province_steward"]
    out = io.BytesIO()
    write_xlsx(source(user), out)
    book = load_workbook(io.BytesIO(out.getvalue()), read_only=True)
    asset_sheets = [name for name in book.sheetnames if name.startswith("数据资产")]
    assert len(asset_sheets) > 1
    codes = [
        row[0] for name in asset_sheets
        for row in list(book[name].iter_rows(values_only=True))[1:]
    ]
    assert sorted(codes) == sorted(
        a.code for a in world.assets if in_scope(world, "province_steward", a)
    )
    assert all(len(list(book[name].iter_rows())) <= 4 + 1 for name in asset_sheets)
    assert all(next(book[name].iter_rows(values_only=True))[0] == "编码"
               for name in asset_sheets)


def test_an_empty_scope_still_gives_headers(world):
    user = world.users["xihu_steward"]
    out = io.BytesIO()
    write_xlsx(source(user, {"grade": 5, "status": AssetStatus.DRAFT, "category": "x"}), out)
    book = load_workbook(io.BytesIO(out.getvalue()), read_only=True)
    rows = list(book["数据资产"].iter_rows(values_only=True))
    assert len(rows) == 1 and rows[0][0] == "编码"


def test_cells_made_by_postgresql_equal_those_made_here(world, monkeypatch):
    """The set-based path (COPY, server-side cells) and the portable one write the same."""
    holder = world.institutions["xihu_a"]
    DataAssetFactory(holder=holder, **HOSTILE)
    marked_up = DataAssetFactory(holder=holder, name='A&B <i>"引号"</i>\n第二行 \\ 反斜杠')
    user = world.users["province_steward"]
    _raw, fast = csv_rows(user)
    assert [r[1] for r in fast if r[0] == marked_up.code] == [marked_up.name]
    fast_book = io.BytesIO()
    write_xlsx(source(user), fast_book)
    monkeypatch.setattr(tables, "is_postgresql", lambda queryset: False)
    _raw, portable = csv_rows(user)
    assert fast == portable and len(fast) > 10
    portable_book = io.BytesIO()
    write_xlsx(source(user), portable_book)

    def sheet_rows(raw, name):
        book = load_workbook(io.BytesIO(raw.getvalue()), read_only=True)
        return [list(row) for row in book[name].iter_rows(values_only=True)]

    for name in ("数据资产", "发现的问题"):
        assert sheet_rows(fast_book, name) == sheet_rows(portable_book, name)
    assert [r[1] for r in sheet_rows(fast_book, "数据资产") if r[0] == marked_up.code] == [
        marked_up.name]
