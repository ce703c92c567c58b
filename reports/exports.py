"""The files of a report: CSV (the asset list), XLSX (summary, breakdowns, asset list and
findings) and PDF (the summary with charts, ``reports.pdf``).

A writer takes an :class:`ExportSource` — the report's snapshot and its scoped rows — and a
binary file, and reports how many rows it has written through ``progress``. The rows stream
from a server-side cursor and are written as they come (openpyxl's write-only workbook
keeps nothing but the current row), so memory stays flat whatever the scope.
"""

from __future__ import annotations

import codecs
import csv
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from registry.bulk import neutralise

from . import sheet_rows, tables
from .choices import ExportFormat

BOLD = Font(bold=True)
NO_PROGRESS: Callable[[int], None] = lambda done: None  # noqa: E731


@dataclass
class ExportSource:
    """What one report's files are made of."""

    snapshot: dict
    assets: QuerySet  # scoped and filtered
    findings: QuerySet  # the current findings on those assets

    @classmethod
    def of(cls, snapshot: dict, assets: QuerySet) -> ExportSource:
        return cls(snapshot, assets, tables.current_findings(assets))

    def rows_to_write(self, format: str) -> int:
        """How many list rows the format writes (for the progress bar)."""
        if format == ExportFormat.CSV:
            return self.assets.count()
        if format == ExportFormat.XLSX:
            return self.assets.count() + self.findings.count()
        return 0


def write_csv(source: ExportSource, out: BinaryIO, progress=NO_PROGRESS) -> None:
    """The asset list, UTF-8 with a byte-order mark (so that Excel reads the Chinese)."""
    text = codecs.getwriter("utf-8")(out)
    text.write("\ufeff")
    writer = csv.writer(text)
    writer.writerow(tables.headers(tables.ASSET_COLUMNS))
    if tables.is_postgresql(source.assets):
        text.flush()
        tables.copy_csv(source.assets, tables.ASSET_COLUMNS, out, progress)
        return
    writer.writerows(tables.rows(
        source.assets, tables.ASSET_COLUMNS, progress=progress
    ))


def write_xlsx(source: ExportSource, out: BinaryIO, progress=NO_PROGRESS) -> None:
    """Four sheets: summary, breakdowns, asset list, findings (write-only, streamed); a list
    longer than a sheet holds goes on over several. On PostgreSQL the lists' rows are
    written by the database (``reports.sheet_rows``)."""
    if not tables.is_postgresql(source.assets):
        book = _skeleton(source.snapshot)
        asset_rows = _rows(source.assets, tables.ASSET_COLUMNS, progress)
        written = _list_sheets(book, _("Data assets"), tables.ASSET_COLUMNS, asset_rows)
        finding_rows = _rows(source.findings, tables.FINDING_COLUMNS,
                             lambda done: progress(written + done))
        _list_sheets(book, _("Findings"), tables.FINDING_COLUMNS, finding_rows)
        book.save(out)
        return
    book = _skeleton(source.snapshot)
    assets = sheet_rows.plan(source.assets, tables.ASSET_COLUMNS, source.assets.count(), 3)
    findings = sheet_rows.plan(source.findings, tables.FINDING_COLUMNS,
                               source.findings.count(), 3 + len(assets))
    for title, columns, sheets in ((_("Data assets"), tables.ASSET_COLUMNS, assets),
                                   (_("Findings"), tables.FINDING_COLUMNS, findings)):
        for number, _sheet in enumerate(sheets, start=1):
            _list_sheet(book, title if number == 1 else f"{title} ({number})", columns)
    with tempfile.TemporaryFile() as skeleton:
        book.save(skeleton)
        skeleton.seek(0)
        sheet_rows.splice(skeleton, out, assets + findings, progress)


def _skeleton(snapshot: dict) -> Workbook:
    book = Workbook(write_only=True)
    _summary_sheet(book, snapshot)
    _breakdown_sheet(book, snapshot)
    return book


def _rows(queryset, columns, progress):
    """The list's cells: made by PostgreSQL where it runs, else converted here."""
    if tables.is_postgresql(queryset):
        return tables.sql_rows(queryset, columns, progress)
    return tables.rows(queryset, columns, progress=progress)


def write_pdf(source: ExportSource, out: BinaryIO, progress=NO_PROGRESS) -> None:
    from .pdf import write_pdf as draw

    draw(source.snapshot, out)


WRITERS = {
    ExportFormat.CSV: write_csv,
    ExportFormat.XLSX: write_xlsx,
    ExportFormat.PDF: write_pdf,
}


# --- XLSX sheets ----------------------------------------------------------------------------


def _cell(sheet, value, font=None):
    cell = WriteOnlyCell(sheet, value=neutralise(value))
    if font is not None:
        cell.font = font
    return cell


def _summary_sheet(book: Workbook, snapshot: dict) -> None:
    sheet = book.create_sheet(_("Summary"))
    sheet.column_dimensions["A"].width = 36
    sheet.column_dimensions["B"].width = 40
    sheet.append([_cell(sheet, _("Inventory report"), Font(bold=True, size=14))])
    sheet.append([_("Scope"), snapshot["scope"]["name"]])
    sheet.append([_("Generated at"), snapshot["generated_at"][:16].replace("T", " ")])
    for label, value in snapshot.get("filters", []):
        sheet.append([_cell(sheet, label), _cell(sheet, value)])
    sheet.append([])
    sheet.append([_cell(sheet, _("Key figures"), BOLD)])
    for label, value in _key_figures(snapshot):
        sheet.append([label, value])


def _key_figures(snapshot: dict) -> list[tuple[str, int]]:
    return [
        (_("Data assets in scope"), snapshot["total"]),
        (_("Current findings"), snapshot["findings_total"]),
        (_("Registered assets without a holding right"), snapshot["without_holder"]),
        (_("Access permissions ending within 30 days"), snapshot["grants_expiring"]),
    ]


def _breakdown_sheet(book: Workbook, snapshot: dict) -> None:
    sheet = book.create_sheet(_("Breakdowns"))
    sheet.column_dimensions["A"].width = 40
    for letter in "BCDE":
        sheet.column_dimensions[letter].width = 14
    total = snapshot["total"] or 1
    share = _("Share")
    for breakdown in snapshot["breakdowns"]:
        sheet.append([_cell(sheet, breakdown["label"], BOLD), _cell(sheet, _("Data assets"), BOLD),
                      _cell(sheet, share, BOLD)])
        for row in breakdown["rows"]:
            sheet.append([_cell(sheet, row["label"]), row["count"], _share(row["count"], total)])
        sheet.append([])
    sheet.append([_cell(sheet, _("Finding"), BOLD), _cell(sheet, _("Current"), BOLD),
                  _cell(sheet, _("Severity"), BOLD)])
    for row in snapshot["findings"]:
        sheet.append([_cell(sheet, row["label"]), row["count"], row["severity_label"]])
    sheet.append([])
    sheet.append([_cell(sheet, _("Institutions with the most overdue assets"), BOLD),
                  _cell(sheet, _("Assets not updated within their frequency"), BOLD)])
    for row in snapshot["stale_institutions"]:
        sheet.append([_cell(sheet, row["label"]), row["count"]])
    sheet.append([])
    sheet.append([_cell(sheet, _("Inventory runs"), BOLD), _cell(sheet, _("Finished"), BOLD),
                  _cell(sheet, _("Found"), BOLD), _cell(sheet, _("New"), BOLD),
                  _cell(sheet, _("Resolved since the last run"), BOLD)])
    for run in snapshot["runs"]:
        sheet.append([
            _cell(sheet, f"{run['kind_label']} · {run['scope_name']}"),
            (run["finished_at"] or "")[:16].replace("T", " "),
            run["found"], run["new"], run["resolved"],
        ])
    sheet.append([])
    sheet.append([_cell(sheet, _("Registered per month"), BOLD),
                  _cell(sheet, _("Data assets"), BOLD)])
    for row in snapshot["registered_by_month"]:
        sheet.append([row["label"], row["count"]])


def _share(count: int, total: int) -> float:
    return round(count / total, 4)


def _list_sheets(book: Workbook, title: str, columns, rows) -> int:
    """``rows`` on as many sheets as Excel's row limit needs; returns the rows written."""
    written = 0
    limit = sheet_rows.SHEET_ROWS
    in_sheet = limit
    sheet = None
    number = 0
    for row in rows:
        if in_sheet >= limit:
            number += 1
            sheet = _list_sheet(book, title if number == 1 else f"{title} ({number})", columns)
            in_sheet = 0
        sheet.append(row)
        in_sheet += 1
        written += 1
    if sheet is None:  # nothing to list: the sheet with its header, still
        _list_sheet(book, title, columns)
    return written


def _list_sheet(book: Workbook, title: str, columns):
    sheet = book.create_sheet(title)
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"
    header = Alignment(wrap_text=True, vertical="top")
    cells = []
    for text in tables.headers(columns):
        cell = _cell(sheet, text, BOLD)
        cell.alignment = header
        cells.append(cell)
    sheet.append(cells)
    return sheet
