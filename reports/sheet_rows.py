"""The long lists of the XLSX workbook, written by PostgreSQL.

openpyxl's write-only workbook writes about 130,000 cells a second here: a million-asset list
(19 million cells) would take minutes. So on PostgreSQL the workbook is written by openpyxl
as usual — summary, breakdowns, and each list sheet with its header, column widths and frozen
header row — and the rows of the list sheets are then added to it by the database: one query
makes each row's SpreadsheetML (``<row>`` with inline-string and number cells, text escaped
for XML) from the same cells as the CSV (``tables.cells_sql``), and COPY streams it into the
sheet's part while the workbook is copied into its final zip. Memory stays flat; the rows
are written in spans of ``SPAN_ROWS`` so that the progress can be told between two.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from django.db import connections
from django.db.models import QuerySet

from . import tables

SHEET_ROWS = 1_048_575  # data rows a sheet holds: Excel's limit, less the header
SPAN_ROWS = SHEET_ROWS // 15  # rows per COPY (a sheet is exactly 15 spans)
# Characters XML 1.0 does not allow; dropped from the text.
XML_FORBIDDEN = "[\\x01-\\x08\\x0B\\x0C\\x0E-\\x1F\\uFFFE\\uFFFF]"


@dataclass
class ListSheet:
    """A list sheet of the skeleton workbook and the rows it is to receive."""

    index: int  # its position in the workbook, from 1 (openpyxl's sheetN.xml)
    queryset: QuerySet
    columns: list
    first_id: int | None  # the rows: ids after first_id (exclusive) …
    last_id: int | None  # … up to last_id (inclusive); None: to the end
    rows: int


def span_bounds(queryset: QuerySet, every: int) -> list[int]:
    """The id of every ``every``-th row of ``queryset`` in id order (one index scan)."""
    inner_sql, params = queryset.order_by().values_list("pk").query.sql_with_params()
    sql = (
        f"SELECT id FROM (SELECT t.id, row_number() OVER (ORDER BY t.id) AS n "  # noqa: S608
        f"FROM ({inner_sql}) AS t(id)) AS numbered WHERE n %% %s = 0 ORDER BY id"
    )
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, [*params, every])
        return [row[0] for row in cursor.fetchall()]


def _cell_xml(kind: str, ref: str) -> str:
    if kind == "int":
        return f"CASE WHEN {ref} IS NULL THEN '<c/>' ELSE '<c><v>' || {ref} || '</v></c>' END"
    text = (
        f"replace(replace(replace(regexp_replace({ref}, '{XML_FORBIDDEN}', '', 'g'), "
        "'&', '&amp;'), '<', '&lt;'), '>', '&gt;')"
    )
    return (f"CASE WHEN {ref} = '' THEN '<c/>' ELSE "
            f"'<c t=\"inlineStr\"><is><t xml:space=\"preserve\">' || {text} || '</t></is></c>' "
            "END")


def rows_xml_sql(queryset: QuerySet, columns: list, first_row: int) -> tuple[str, list]:
    """One query: the SpreadsheetML ``<row>`` of each row of ``queryset``, numbered from
    ``first_row``."""
    cells, params = tables.cells_sql(queryset, columns, with_pk=True)
    names = ["pk"] + [f"c{index}" for index in range(len(columns))]
    xml = " || ".join(_cell_xml(column.kind, f"r.{name}")
                      for column, name in zip(columns, names[1:], strict=True))
    sql = (
        f"SELECT '<row r=\"' || (%s + row_number() OVER (ORDER BY r.pk)) || '\">' || "  # noqa: S608
        f"{xml} || '</row>' FROM ({cells}) AS r({', '.join(names)}) ORDER BY r.pk"
    )
    return sql, [first_row - 1, *params]


def plan(queryset: QuerySet, columns: list, total: int, first_index: int) -> list[ListSheet]:
    """The sheets a list of ``total`` rows takes (at least one), from workbook position
    ``first_index`` on."""
    bounds = span_bounds(queryset, SHEET_ROWS) if total > SHEET_ROWS else []
    sheets, previous = [], None
    for number, last in enumerate([*bounds[: (total - 1) // SHEET_ROWS], None]):
        rows = min(SHEET_ROWS, total - number * SHEET_ROWS)
        sheets.append(ListSheet(first_index + number, queryset, columns, previous, last, rows))
        previous = last
    return sheets


def splice(skeleton: BinaryIO, out: BinaryIO, sheets: list[ListSheet],
           progress: Callable[[int], None]) -> None:
    """Copy the ``skeleton`` workbook into ``out``, adding each list sheet's rows."""
    by_name = {f"xl/worksheets/sheet{sheet.index}.xml": sheet for sheet in sheets}
    done = 0
    with zipfile.ZipFile(skeleton) as source, zipfile.ZipFile(
        out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1, allowZip64=True
    ) as target:
        for info in source.infolist():
            sheet = by_name.get(info.filename)
            if sheet is None:
                with source.open(info) as part, target.open(info.filename, "w") as copy:
                    shutil.copyfileobj(part, copy)
                continue
            head, tail = source.read(info).decode().split("</sheetData>", 1)
            with target.open(info.filename, "w", force_zip64=True) as part:
                part.write(head.encode())
                done = _write_rows(sheet, part, done, progress)
                part.write(b"</sheetData>" + tail.encode())


def _write_rows(sheet: ListSheet, part, done: int, progress) -> int:
    rows = sheet.queryset
    if sheet.first_id is not None:
        rows = rows.filter(pk__gt=sheet.first_id)
    if sheet.last_id is not None:
        rows = rows.filter(pk__lte=sheet.last_id)
    spans = span_bounds(rows, SPAN_ROWS) if sheet.rows > SPAN_ROWS else []
    first_row, previous = 2, None
    with connections[rows.db].cursor() as cursor:
        for last in [*spans, None]:
            span = rows if previous is None else rows.filter(pk__gt=previous)
            span = span if last is None else span.filter(pk__lte=last)
            sql, params = rows_xml_sql(span, sheet.columns, first_row)
            written = 0
            with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT", params) as copy:
                for data in copy:
                    part.write(_unescape_copy(bytes(data)))
                    written += bytes(data).count(b"\n")
            first_row += written
            done += written
            progress(done)
            previous = last
    return done


# COPY's text format escapes backslashes and control characters; the XML has no tabs or
# newlines of its own (forbidden characters are dropped, and \t \n \r in text become these
# escapes), so each line is one row and only the escapes need undoing.
_COPY_ESCAPE = re.compile(rb"\\(.)")
_COPY_CODES = {b"t": b"\t", b"n": b"\n", b"r": b"\r", b"\\": b"\\"}


def _unescape_copy(data: bytes) -> bytes:
    data = data.replace(b"\n", b"")
    if b"\\" not in data:
        return data
    return _COPY_ESCAPE.sub(lambda m: _COPY_CODES.get(m.group(1), m.group(1)), data)
