"""Bulk registration (批量登记): a spreadsheet of new assets becomes one batch of
registration applications, submitted for review together.

The file is an Excel workbook (XLSX) or a CSV file (UTF-8 with or without BOM, or GBK /
GB 18030, which Chinese Excel still writes), told apart by content, not by name. It has one
column per ledger field of the registration form, headed by the field's Chinese label (the
English label and the field name are accepted too); the downloadable template has them all,
an example row and a sheet explaining each column.

Every row goes through the registration form (:class:`~registry.ledger.ApplicationLedgerForm`
— the rules of a single application) and every problem is reported at once, with the row as
the spreadsheet numbers it (the header is row 1), the column and the reason. A file with any
problem writes nothing.

A valid file is staged in one transaction as a :class:`RegistrationBatch` of applications
created *submitted* — with a submit step from draft each, as if each had been drafted and
submitted — rather than as drafts then put through ``workflow.take`` one by one: every row
has just passed the very check submission makes (``workflow._check``: the same form), and
fifty thousand single steps (a lock, the form again, a save, a step, an audit event and a
notification each) would take many minutes. The batch gets one audit event and the
reviewers one notification, not one per row. Approval goes through the workflow, row by row
(:func:`approve_batch`), and checks each application again with the full form.

Speed — 50,000 rows read, checked and staged in under a minute on two cores:

* the file is read once and streamed (openpyxl read-only; a CSV decoded a megabyte at a
  time): rows are checked and, while none has failed, written in chunks inside the staging
  transaction, which is rolled back when one fails — a valid file is parsed and checked once;
* one form's fields serve every row (:class:`_RowChecker`): Django deep-copies a form's
  thirty fields for each new form, two thirds of the time a row would take;
* no query per row: the asset codes are checked against the catalog with one query for the
  whole file, catalog classes and regions are loaded once, and the model's check
  constraints — Django checks each with a query — are left out: each is mirrored by a
  field validator or ``DataAsset.clean`` (``MIRRORED_CONSTRAINTS``, kept true by a test);
* the applications are written with COPY, their submit steps with one INSERT … SELECT.

Values are kept as text exactly as given: a cell ``=HYPERLINK(...)`` stays that text in the
payload and in the asset. Whatever writes a spreadsheet passes its cells through
:func:`neutralise`, so that no such value is ever run as a formula.
"""

from __future__ import annotations

import codecs
import copy
import csv
import datetime
import difflib
import io
import json
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KeyTextTransform
from django.forms.models import construct_instance
from django.template.defaultfilters import filesizeformat
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from accounts.models import Institution
from accounts.scoping import Action
from audit.models import AuditAction
from audit.recorder import record
from catalog.history import ledger_context
from catalog.models import DataAsset

from . import workflow
from .choices import ApplicationKind, ApplicationState, Transition
from .ledger import REGISTER_FIELDS, ApplicationLedgerForm
from .models import ApplicationEvent, RegistrationApplication, RegistrationBatch

# Checking stops after this many problems: a file that wrong is the wrong file.
MAX_ERRORS = 10_000
# Applications written at a time while staging.
CHUNK_SIZE = 2_000
# An XLSX is a zip of XML: refuse one that unpacks to more than this many times the upload
# limit (a "zip bomb"); real workbooks unpack to five to ten times their size.
MAX_UNPACKED_RATIO = 25

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary Excel format (.xls)
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

# DataAsset's check constraints, each enforced without a query when a row is checked: the
# grade by the field's choices, the counts by MinValueValidator(0), the coverage order by
# DataAsset.clean. A new constraint must be mirrored too before it is listed here.
MIRRORED_CONSTRAINTS = frozenset({
    "catalog_asset_grade_range",
    "catalog_asset_records_nonnegative",
    "catalog_asset_bytes_nonnegative",
    "catalog_asset_individuals_nonnegative",
    "catalog_asset_temporal_order",
})

# A cell that a spreadsheet program would run as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# Several values in one cell: 临床诊疗、科学研究 / clinical_care, research.
VALUE_SEPARATORS = re.compile(r"[、,，;；\n]+")
THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+$")
TRUE_WORDS = frozenset({"是", "yes", "y", "true", "1", "on", "√"})
FALSE_WORDS = frozenset({"否", "no", "n", "false", "0", "off", "×"})
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")
DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M",
    "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M",
)

# Notes on columns whose form field says too little by itself (shown in the template).
NOTES = {
    "code": gettext_lazy("Unique in the catalog: 4–40 capital letters, digits and hyphens."),
    "catalog_class": gettext_lazy("The code of a class of the resource catalog."),
    "grade_reason": gettext_lazy("Only when the grade is below the one the data categories "
                                 "suggest: why the lower grade fits."),
}


# --- Exports ------------------------------------------------------------------------------


def neutralise(value):
    """``value`` as a spreadsheet cell that is never run as a formula: text starting with
    = + - @, a tab or a carriage return gets a leading apostrophe. Other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


# --- The columns --------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of the spreadsheet: a ledger field of the registration form."""

    name: str
    kind: str  # text, choice, multi, bool, int, date, datetime, object
    label: str  # lazy: the form field's label
    required: bool  # the column must be there and its cells filled
    choices: tuple = ()
    help_text: str = ""
    max_length: int | None = None

    @property
    def header(self) -> str:
        """The column's header: the field's label in Chinese."""
        with translation.override("zh-hans"):
            return str(self.label)

    @property
    def header_en(self) -> str:
        with translation.override("en"):
            return capfirst(str(self.label))


def _kind(form_field: forms.Field) -> str:
    if isinstance(form_field, forms.ModelChoiceField):
        return "object"
    if isinstance(form_field, forms.MultipleChoiceField):
        return "multi"
    if isinstance(form_field, forms.ChoiceField):
        return "choice"
    if isinstance(form_field, forms.BooleanField):
        return "bool"
    if isinstance(form_field, forms.IntegerField):
        return "int"
    if isinstance(form_field, forms.DateTimeField):
        return "datetime"
    if isinstance(form_field, forms.DateField):
        return "date"
    return "text"


def columns() -> list[Column]:
    """The columns, in the order of the template: the registration form's fields, then the
    reason for a low grade (kept on the application, not in the ledger)."""
    found = []
    for name in REGISTER_FIELDS:
        form_field = ApplicationLedgerForm.base_fields[name]
        kind = _kind(form_field)
        choices = ()
        if kind in ("choice", "multi"):
            choices = tuple((code, label) for code, label in form_field.choices
                            if code not in ("", None))
        found.append(Column(
            name=name, kind=kind, label=form_field.label,
            # Yes or no is never left to an empty cell: an unticked box is a choice in the
            # form, an empty cell may be an oversight.
            required=form_field.required or kind == "bool",
            choices=choices, help_text=form_field.help_text,
            max_length=getattr(form_field, "max_length", None),
        ))
    reason = RegistrationApplication._meta.get_field("grade_reason")
    found.append(Column(name="grade_reason", kind="text", label=capfirst(reason.verbose_name),
                        required=False, max_length=reason.max_length))
    return found


def _fold(text: str) -> str:
    """A header or a value as compared: full-width forms folded, spaces and a trailing
    required-marker ignored, case ignored."""
    text = unicodedata.normalize("NFKC", text).strip().rstrip("*").strip()
    return " ".join(text.split()).casefold()


def _header_keys(column: Column) -> set[str]:
    keys = {_fold(column.header), _fold(column.header_en), _fold(column.name)}
    if column.name != "grade_reason":
        verbose = DataAsset._meta.get_field(column.name).verbose_name
        for language in ("zh-hans", "en"):
            with translation.override(language):
                keys.add(_fold(str(verbose)))
    return keys


def _choice_keys(code, label) -> set[str]:
    """What a cell may say for a choice: its code, its label in Chinese or English, or the
    part of the label before " · " (3级 for 3级 · 限授权项目组使用)."""
    keys = {_fold(str(code))}
    for language in ("zh-hans", "en"):
        with translation.override(language):
            text = str(label)
        keys.add(_fold(text))
        if " · " in text:
            keys.add(_fold(text.split(" · ")[0]))
    return keys


def allowed_values(column: Column) -> str:
    """What a column takes, in the active language (the template's notes and the page)."""
    separator = pgettext("list separator", ", ")
    if column.kind in ("choice", "multi"):
        labels = separator.join(str(label) for code, label in column.choices)
        if column.kind == "multi":
            return _("%(labels)s. Several values separated by “、”, “,” or “;”.") % {
                "labels": labels}
        return labels
    if column.kind == "bool":
        return _("是 (yes) or 否 (no).")
    if column.kind == "int":
        return _("A whole number, 0 or more.")
    if column.kind == "date":
        return _("A date, such as 2024-01-31.")
    if column.kind == "datetime":
        return _("A date and time, such as 2024-01-31 08:00:00.")
    if column.kind == "object":
        return _("A code.")
    if column.max_length:
        return _("Text, at most %(max)d characters.") % {"max": column.max_length}
    return _("Text.")


def column_notes() -> list[dict]:
    """Each column with its headers, whether it is required and what it takes (active
    language) — for the upload page and the template's second sheet."""
    notes = []
    for column in columns():
        note = NOTES.get(column.name) or column.help_text
        notes.append({
            "header": column.header, "header_en": column.header_en,
            "required": column.required,
            "note": str(note) if note else "",
            "allowed": allowed_values(column),
        })
    return notes


# --- Problems -----------------------------------------------------------------------------


class RowError(NamedTuple):
    """A problem of the file: the row as the spreadsheet numbers it (None: the whole file),
    the column's header, and what is wrong."""

    row: int | None
    column: str
    message: str
    position: int = 0  # the column's place, for sorting

    def as_tuple(self) -> tuple:
        return self.row, self.column, self.message


class BulkError(Exception):
    """The file cannot be staged; ``errors`` says every reason found."""

    def __init__(self, errors: list[RowError], *, truncated: bool = False):
        super().__init__("; ".join(error.message for error in errors[:3]))
        self.errors = errors
        self.truncated = truncated

    @classmethod
    def file(cls, message: str) -> BulkError:
        return cls([RowError(None, "", message)])


@dataclass
class Report:
    """What checking a file found."""

    errors: list[RowError] = field(default_factory=list)
    rows: int = 0  # data rows read
    truncated: bool = False  # checking stopped at MAX_ERRORS

    @property
    def ok(self) -> bool:
        return not self.errors

    def add(self, row, column, message, position=0) -> None:
        self.errors.append(RowError(row, column, str(message), position))
        if len(self.errors) >= MAX_ERRORS:
            self.truncated = True


# --- Reading ------------------------------------------------------------------------------


def max_bytes() -> int:
    return settings.BULK_MAX_BYTES


def max_rows() -> int:
    return settings.BULK_MAX_ROWS


class Sheet:
    """An uploaded file's header row and data rows, read as they are iterated (again on
    each iteration). Rows come as (row number, cell values); blank rows are skipped."""

    def __init__(self, kind: str, source: Callable[[], Iterator[tuple[int, tuple]]], *,
                 encoding: str = "", closer: Callable[[], None] | None = None):
        self.kind, self.encoding = kind, encoding
        self._source, self._closer = source, closer
        rows = self._source()
        try:
            _number, first = next(rows, (1, ()))
        finally:
            getattr(rows, "close", lambda: None)()
        headers = [_text(value).strip() for value in first]
        while headers and not headers[-1]:
            headers.pop()
        self.headers = headers

    def __iter__(self) -> Iterator[tuple[int, tuple]]:
        limit, count = max_rows(), 0
        for number, values in self._source():
            if number == 1 or _blank(values):
                continue
            count += 1
            if count > limit:
                raise BulkError.file(_(
                    "The file has more than %(max)s rows: upload at most %(max)s at a time."
                ) % {"max": f"{limit:,}"})
            yield number, values

    def close(self) -> None:
        if self._closer:
            self._closer()

    def __enter__(self) -> Sheet:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _size(uploaded) -> int:
    size = getattr(uploaded, "size", None)
    if size is None:
        uploaded.seek(0, io.SEEK_END)
        size = uploaded.tell()
    uploaded.seek(0)
    return size


def read_rows(uploaded) -> Sheet:
    """The rows of an uploaded XLSX or CSV file (a Django upload or any binary file object).
    Raises :class:`BulkError` for a file that cannot be read at all."""
    size, limit = _size(uploaded), max_bytes()
    if size == 0:
        raise BulkError.file(_("The file is empty."))
    if size > limit:
        raise BulkError.file(_(
            "The file is %(size)s; at most %(max)s can be uploaded. Split it into several files."
        ) % {"size": filesizeformat(size), "max": filesizeformat(limit)})
    head = uploaded.read(8)
    uploaded.seek(0)
    if head.startswith(ZIP_MAGIC):
        return _read_xlsx(uploaded, limit)
    if head.startswith(OLE_MAGIC):
        raise BulkError.file(_(
            "This is an old Excel file (.xls): save it as an Excel workbook (.xlsx) or as "
            "CSV and upload that."))
    return _read_csv(uploaded)


def _not_readable() -> BulkError:
    return BulkError.file(_(
        "The file is neither an Excel workbook (.xlsx) nor a CSV file in UTF-8 or GBK."))


def _not_a_workbook() -> BulkError:
    return BulkError.file(_(
        "The file cannot be read as an Excel workbook (.xlsx): it is damaged, or another "
        "kind of file."))


def _read_xlsx(uploaded, limit: int) -> Sheet:
    # openpyxl parses with the standard library's expat, which since 2.4.1 refuses entity
    # expansion attacks ("billion laughs", quadratic blowup) and never fetches external
    # entities; defusedxml (which openpyxl uses when installed) would add 45 % to reading.
    import openpyxl

    try:
        with zipfile.ZipFile(uploaded) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
        raise _not_a_workbook() from None
    if unpacked > MAX_UNPACKED_RATIO * limit:
        raise BulkError.file(_("The workbook unpacks to more than %(max)s: it is not a "
                               "spreadsheet this page can read.")
                             % {"max": filesizeformat(MAX_UNPACKED_RATIO * limit)})
    uploaded.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unsupported extensions, missing styles
            # Not data_only: a formula is read as its text (=HYPERLINK(...)), never evaluated.
            workbook = openpyxl.load_workbook(uploaded, read_only=True, data_only=False,
                                              keep_links=False)
        worksheet = workbook.worksheets[0]
        # Declared dimensions may be wrong; read each row as it is.
        worksheet.reset_dimensions()
    except Exception:  # any exception of a broken workbook: not a readable file
        raise _not_a_workbook() from None

    def source() -> Iterator[tuple[int, tuple]]:
        rows = worksheet.iter_rows(values_only=True)
        number = 0
        while True:
            try:
                values = next(rows)
            except StopIteration:
                return
            except Exception:  # broken XML inside the workbook
                if not number:
                    raise _not_a_workbook() from None
                raise BulkError.file(_(
                    "The workbook is damaged after row %(row)d.") % {"row": number}) from None
            number += 1
            yield number, values

    try:
        return Sheet("xlsx", source, closer=workbook.close)
    except BulkError:
        workbook.close()
        raise


def _blank(values) -> bool:
    return not any(value is not None and (not isinstance(value, str) or value.strip())
                   for value in values)


READ_CHUNK = 1 << 20  # bytes decoded at a time


def _chunks(uploaded) -> Iterator[bytes]:
    uploaded.seek(0)
    while chunk := uploaded.read(READ_CHUNK):
        yield chunk


def _encoding(uploaded) -> tuple[str, bool, bool]:
    """How the CSV file is encoded — UTF-16 with its BOM, else UTF-8 (with or without BOM)
    if it decodes as such, else GB 18030 (a superset of GBK, what Chinese Excel writes) —,
    whether it has any text, and whether its lines end in a lone CR. Decoded a chunk at a
    time: nothing of it is kept."""
    head = uploaded.read(2)
    candidates = ["utf-16"] if head in UTF16_BOMS else ["utf-8-sig", "gb18030"]
    for encoding in candidates:
        decoder = codecs.getincrementaldecoder(encoding)()
        has_text, has_lf, has_cr = False, False, False
        try:
            for chunk in _chunks(uploaded):
                text = decoder.decode(chunk)
                if "\x00" in text:
                    raise _not_readable()  # binary, whatever it decodes to
                has_text = has_text or not (text.isspace() or not text)
                has_lf, has_cr = has_lf or "\n" in text, has_cr or "\r" in text
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        finally:
            uploaded.seek(0)
        return encoding, has_text, has_cr and not has_lf
    raise _not_readable()


def _lines(uploaded, encoding: str, *, cr_only: bool) -> Iterator[str]:
    """The lines of the file, decoded, with their line ends, one at a time."""
    decoder = codecs.getincrementaldecoder(encoding)()
    rest = ""
    for chunk in _chunks(uploaded):
        text = rest + decoder.decode(chunk)
        if cr_only:
            text = text.replace("\r", "\n")  # classic Mac line ends
        start = 0
        while (stop := text.find("\n", start)) >= 0:
            yield text[start:stop + 1]
            start = stop + 1
        rest = text[start:]
    rest += decoder.decode(b"", final=True)
    if rest:
        yield rest


def _read_csv(uploaded) -> Sheet:
    encoding, has_text, cr_only = _encoding(uploaded)
    if not has_text:
        raise BulkError.file(_("The file is empty."))
    lines = _lines(uploaded, encoding, cr_only=cr_only)
    first_line = next((line for line in lines if line.strip()), "")
    lines.close()
    delimiter = max((",", "\t", ";"), key=first_line.count)

    def source() -> Iterator[tuple[int, tuple]]:
        reader = csv.reader(_lines(uploaded, encoding, cr_only=cr_only), delimiter=delimiter)
        try:
            yield from enumerate(reader, start=1)
        except csv.Error as error:
            raise BulkError.file(_("The CSV file cannot be read at line %(line)d: %(error)s")
                                 % {"line": reader.line_num, "error": error}) from None

    return Sheet("csv", source, encoding="gbk" if encoding == "gb18030" else encoding)


# --- Cell values ----------------------------------------------------------------------------


class _CellError(Exception):
    pass


def _text(value) -> str:
    """A cell's value as text, as a person would have typed it."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if hasattr(value, "text"):  # an array formula: its text
        return str(value.text)
    return str(value)


def _parse(text: str, formats) -> datetime.datetime | None:
    """``text`` as a date or time in one of ``formats`` (ISO 8601 first, fast)."""
    if not text or not text[:1].isdigit():
        return None
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        pass
    for pattern in formats:
        try:
            return datetime.datetime.strptime(text, pattern)  # noqa: DTZ007 — wall time
        except ValueError:
            continue
    return None


class _Converter:
    """Turns cells into the form data the registration form would post: codes for choices,
    lists for several choices, "on" or "" for yes and no, ISO dates."""

    def __init__(self, column: Column, objects: dict[str, dict[str, str]]):
        self.column = column
        self.convert = getattr(self, f"_{column.kind}")
        if column.kind in ("choice", "multi"):
            self.choices = {key: str(code) for code, label in column.choices
                            for key in _choice_keys(code, label)}
            self.allowed = pgettext("list separator", ", ").join(
                str(label) for code, label in column.choices)
        if column.kind == "object":
            self.objects = objects[column.name]
            model = ApplicationLedgerForm.base_fields[column.name].queryset.model
            self.thing = model._meta.verbose_name

    def blank(self):
        return [] if self.column.kind == "multi" else ""

    def _text(self, value):
        return _text(value)

    def _choice(self, value):
        text = _text(value).strip()
        if not text:
            return ""
        code = self.choices.get(_fold(text))
        if code is None:
            raise _CellError(_("“%(value)s” is not one of: %(allowed)s.")
                             % {"value": text, "allowed": self.allowed})
        return code

    def _multi(self, value):
        codes, unknown = [], []
        for part in VALUE_SEPARATORS.split(_text(value)):
            if not part.strip():
                continue
            code = self.choices.get(_fold(part))
            if code is None:
                unknown.append(part.strip())
            elif code not in codes:
                codes.append(code)
        if unknown:
            raise _CellError(_("Unknown: %(values)s. Allowed: %(allowed)s.") % {
                "values": pgettext("list separator", ", ").join(unknown),
                "allowed": self.allowed})
        return codes

    def _bool(self, value):
        if isinstance(value, bool):
            return "on" if value else ""
        word = _fold(_text(value))
        if word in TRUE_WORDS:
            return "on"
        if word in FALSE_WORDS:
            return ""
        raise _CellError(_("Enter 是 (yes) or 否 (no)."))

    def _int(self, value):
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        text = _text(value).strip()
        if THOUSANDS.match(text):
            text = text.replace(",", "")
        return text

    def _date(self, value):
        if isinstance(value, datetime.datetime):
            return value.date().isoformat()
        if isinstance(value, datetime.date):
            return value.isoformat()
        text = _text(value).strip()
        parsed = _parse(text, DATE_FORMATS) or _parse(text, DATETIME_FORMATS)
        return parsed.date().isoformat() if parsed else text

    def _datetime(self, value):
        if isinstance(value, datetime.datetime):
            return value.replace(microsecond=0, tzinfo=None).isoformat(timespec="seconds")
        if isinstance(value, datetime.date):
            return f"{value.isoformat()}T00:00:00"
        text = _text(value).strip()
        parsed = _parse(text, DATETIME_FORMATS) or _parse(text, DATE_FORMATS)
        if parsed and parsed.tzinfo is None:
            # As the datetime-local widget posts it.
            return parsed.replace(microsecond=0).isoformat(timespec="seconds")
        return text

    def _object(self, value):
        text = _text(value).strip()
        if not text:
            return ""
        found = self.objects.get(text) or self.objects.get(text.upper())
        if found is None:
            raise _CellError(_("No %(thing)s has the code “%(code)s”.")
                             % {"thing": self.thing, "code": text})
        return found


# --- Checking -----------------------------------------------------------------------------


class _KnownObjectField(forms.ModelChoiceField):
    """A ModelChoiceField that finds its value among objects loaded once, not with a query
    for each row."""

    def __init__(self, objects: dict, **kwargs):
        super().__init__(**kwargs)
        self.objects = objects

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return self.objects[str(value)]
        except KeyError:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice",
                                  params={"value": value}) from None


class _BulkLedgerForm(ApplicationLedgerForm):
    """The registration form for rows checked in bulk: the same fields and rules, without
    the checks that cost a query per row (see the module's docstring)."""

    def __init__(self, *args, objects: dict[str, dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.objects = objects
        for name, by_value in objects.items():
            original = self.fields[name]
            self.fields[name] = _KnownObjectField(
                by_value, queryset=original.queryset, to_field_name=original.to_field_name,
                required=original.required, label=original.label,
                error_messages=original.error_messages,
            )

    def _clean_fields(self):
        # As BaseForm._clean_fields, without making a BoundField of each field for each row
        # (nothing is rendered; the form has no disabled fields).
        for name, form_field in self.fields.items():
            try:
                value = form_field.widget.value_from_datadict(self.data, self.files, name)
                self.cleaned_data[name] = form_field.clean(value)
                hook = getattr(self, f"clean_{name}", None)
                if hook is not None:
                    self.cleaned_data[name] = hook()
            except ValidationError as error:
                self.add_error(name, error)

    def _post_clean(self):
        # ModelForm._post_clean without validate_unique (the codes are checked together,
        # _check_codes), without the model's constraints (MIRRORED_CONSTRAINTS), and without
        # the foreign keys' check that their object exists (a query each): _KnownObjectField
        # found it among the objects there are.
        exclude = self._get_validation_exclusions() | set(self.objects)
        try:
            self.instance = construct_instance(self, self.instance, self._meta.fields,
                                               self._meta.exclude)
        except ValidationError as error:
            self._update_errors(error)
        try:
            self.instance.full_clean(exclude=exclude, validate_unique=False,
                                     validate_constraints=False)
        except ValidationError as error:
            self._update_errors(error)


def _objects() -> tuple[dict[str, dict[str, str]], dict[str, dict[str, object]]]:
    """For each related-object column (catalog class, spatial coverage): the form value of
    each code, and the object of each form value — one query each."""
    by_code, by_value = {}, {}
    for name in REGISTER_FIELDS:
        form_field = ApplicationLedgerForm.base_fields[name]
        if not isinstance(form_field, forms.ModelChoiceField):
            continue
        key = form_field.to_field_name or "pk"
        by_code[name], by_value[name] = {}, {}
        for obj in form_field.queryset.order_by():
            value = str(getattr(obj, key))
            by_code[name][str(obj.code)] = value
            by_value[name][value] = obj
    return by_code, by_value


class _RowChecker:
    """Checks rows with one form's fields: each row gets a shallow copy of a prototype form
    bound to its data. Validation never changes a form's fields, so rows may share them;
    what a bound form keeps of its data is reset here."""

    def __init__(self, institution: Institution, objects: dict[str, dict]):
        self.institution = institution
        self.prototype = _BulkLedgerForm(data={}, instance=DataAsset(holder=institution),
                                         objects=objects)

    def check(self, data: dict, grade_reason: str) -> forms.ModelForm:
        form = copy.copy(self.prototype)
        form.data = data
        form.instance = DataAsset(holder=self.institution)
        form.grade_reason = grade_reason.strip()
        form._errors = None
        form._bound_fields_cache = {}
        form.is_valid()
        return form


class _Layout:
    """Which column of the file holds which field; the header's problems."""

    def __init__(self, headers: list[str], report: Report):
        specs = columns()
        by_key = {}
        for column in specs:
            for key in _header_keys(column):
                by_key.setdefault(key, column)
        self.headers = headers
        self.positions: list[tuple[int, Column]] = []
        self.header_of: dict[str, str] = {column.name: column.header for column in specs}
        self.position_of: dict[str, int] = {}
        seen: dict[str, int] = {}
        unknown: list[tuple[int, str]] = []
        for index, header in enumerate(headers):
            letter = _letter(index)
            if not header:
                report.add(1, "", _("Column %(letter)s has no header.") % {"letter": letter},
                           index)
                continue
            column = by_key.get(_fold(header))
            if column is None:
                unknown.append((index, header))
                continue
            if column.name in seen:
                report.add(1, header, _(
                    "The column “%(header)s” appears twice (columns %(first)s and %(second)s)."
                ) % {"header": header, "first": _letter(seen[column.name]), "second": letter},
                    index)
                continue
            seen[column.name] = index
            self.positions.append((index, column))
            self.header_of[column.name] = header
            self.position_of[column.name] = index
        # A renamed column is most likely one of those not found: suggest among them.
        absent = [column for column in specs if column.name not in seen]
        for index, header in unknown:
            report.add(1, header, _unknown_header(
                header, _letter(index), [column.header for column in absent]
                + [column.header_en for column in absent]), index)
        self.missing = set()
        for number, column in enumerate(specs):
            if column.name not in seen and column.required:
                self.missing.add(column.name)
                report.add(1, column.header, _("The required column “%(header)s” is missing.")
                           % {"header": column.header}, len(headers) + number)
        self.present = set(seen)


def _unknown_header(header: str, letter: str, known: list[str]) -> str:
    close = difflib.get_close_matches(header, known, n=1, cutoff=0.5)
    if close:
        return _("Unknown column “%(header)s” (column %(letter)s): did you mean "
                 "“%(suggestion)s”?") % {"header": header, "letter": letter,
                                          "suggestion": close[0]}
    return _("Unknown column “%(header)s” (column %(letter)s): use the headers of the "
             "template.") % {"header": header, "letter": letter}


def _letter(index: int) -> str:
    """The spreadsheet's letter of the column at ``index`` (0: A, 26: AA)."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _reachable(actor, institution: Institution) -> Institution:
    found = Institution.objects.restrict(actor, Action.APPLY).filter(pk=institution.pk).first()
    if found is None:
        raise PermissionDenied(_("You may not file applications for this institution."))
    return found


def validate(rows: Sheet, institution: Institution, actor, *,
             sink: Callable[[int, dict, str], None] | None = None,
             batch: RegistrationBatch | None = None) -> Report:
    """Check every row of ``rows`` as a registration of ``institution`` by ``actor``.

    Every problem is reported (up to MAX_ERRORS). ``sink`` receives each row's form data
    (with the row number and the reason for a low grade) for as long as no problem has been
    found — :func:`stage` writes them; ``batch`` is the batch being staged, whose own rows do
    not count as other applications proposing the same code.
    """
    _reachable(actor, institution)
    report = Report()
    if not rows.headers:
        has_rows = any(True for _row in rows)
        report.add(None, "", _("Row 1 must hold the column headers.") if has_rows
                   else _("The file is empty."))
        return report
    layout = _Layout(rows.headers, report)
    if not layout.present:
        return report  # nothing in it is a column of ours: the rows cannot say more
    by_code, by_value = _objects()
    checker = _RowChecker(institution, by_value)
    converters = [(index, column, _Converter(column, by_code))
                  for index, column in layout.positions]
    absent = [(column.name, column.kind == "multi")
              for column in columns() if column.name not in layout.present]
    width = len(rows.headers)
    codes: dict[str, int] = {}
    code_header, code_position = layout.header_of["code"], layout.position_of.get("code", 0)
    skip_always = layout.missing

    for number, values in rows:
        report.rows += 1
        data: dict = {name: [] if multi else "" for name, multi in absent}
        failed: set[str] = set()
        row_errors: list[RowError] = []
        for index, column, converter in converters:
            value = values[index] if index < len(values) else None
            try:
                data[column.name] = converter.convert(value)
            except _CellError as error:
                data[column.name] = converter.blank()
                failed.add(column.name)
                row_errors.append(RowError(number, layout.header_of[column.name], str(error),
                                           index))
        if not _blank(values[width:]):
            row_errors.append(RowError(number, "", _(
                "This row has values to the right of the last column."), width))
        grade_reason = data.pop("grade_reason", "")
        form = checker.check(data, grade_reason)
        for name, messages in form.errors.items():
            if name in failed or name in skip_always:
                continue
            for message in messages:
                row_errors.append(RowError(number, layout.header_of.get(name, ""), message,
                                           layout.position_of.get(name, width)))
        code = form.cleaned_data.get("code")
        if code:
            first = codes.setdefault(code, number)
            if first != number:
                row_errors.append(RowError(number, code_header, _(
                    "The code %(code)s is used twice: in rows %(first)d and %(row)d."
                ) % {"code": code, "first": first, "row": number}, code_position))
        if row_errors:
            for error in row_errors:
                report.add(*error)
        elif report.ok and sink is not None:
            sink(number, data, grade_reason)
        if report.truncated:
            break

    if report.rows == 0 and not report.truncated:
        report.add(None, "", _("The file has a header row but no data rows."))
    for code, message in _check_codes(codes, batch).items():
        report.add(codes[code], code_header, message, code_position)
    report.errors.sort(key=lambda error: (error.row or 0, error.position))
    del report.errors[MAX_ERRORS:]
    return report


def _among(codes: list[str]):
    """The right-hand side of ``__in`` for many codes: on PostgreSQL one array parameter
    (tens of thousands of separate parameters take longer to quote than to query)."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::text[])", [codes])  # noqa: S611 — a fixed fragment
    return codes


def _check_codes(codes: dict[str, int], batch: RegistrationBatch | None) -> dict[str, str]:
    """The codes the catalog already has, or another application under review proposes:
    one query each for the whole file."""
    if not codes:
        return {}
    wanted = _among(list(codes))
    found = {code: _("The catalog already has an asset with the code %(code)s.")
             % {"code": code}
             for code in DataAsset.objects.filter(code__in=wanted).values_list("code", flat=True)}
    pending = RegistrationApplication.objects.annotate(
        proposed_code=KeyTextTransform("code", "payload")
    ).filter(
        kind=ApplicationKind.REGISTER,
        state__in=(ApplicationState.SUBMITTED, ApplicationState.RETURNED),
        proposed_code__in=wanted,
    )
    if batch is not None:
        pending = pending.exclude(batch=batch)
    for code, pk in pending.order_by("pk").values_list("proposed_code", "pk"):
        found.setdefault(code, _(
            "Application #%(id)d, under review, already proposes the code %(code)s."
        ) % {"id": pk, "code": code})
    return found


# --- Staging ------------------------------------------------------------------------------


def _copy_available() -> bool:
    return connection.vendor == "postgresql"


class _Stager:
    """Writes the checked rows as submitted applications, a chunk at a time — with COPY on
    PostgreSQL (an INSERT of thousands of rows spends most of its time quoting parameters),
    ``bulk_create`` elsewhere — and then every one's submit step with one INSERT … SELECT."""

    def __init__(self, batch: RegistrationBatch, actor):
        self.batch, self.actor = batch, actor
        self.now = timezone.now()
        self.pending: list[tuple[int, dict, str]] = []
        self.count = 0
        # Every column as an INSERT of the first row would write it; a row differs only in
        # its payload, reason and row number.
        fields = [f for f in RegistrationApplication._meta.concrete_fields if not f.primary_key]
        sample = self.application(0, {}, "")
        self.columns = [f.get_db_prep_save(f.pre_save(sample, True), connection) for f in fields]
        names = [f.name for f in fields]
        self.slots = (names.index("payload"), names.index("grade_reason"),
                      names.index("batch_row"))
        quote = connection.ops.quote_name
        self.copy_sql = "COPY {} ({}) FROM STDIN".format(
            quote(RegistrationApplication._meta.db_table),
            ", ".join(quote(f.column) for f in fields))

    def application(self, row: int, data: dict, grade_reason: str) -> RegistrationApplication:
        return RegistrationApplication(
            kind=ApplicationKind.REGISTER, state=ApplicationState.SUBMITTED,
            institution_id=self.batch.institution_id, applicant_id=self.actor.pk,
            payload=data, grade_reason=grade_reason, batch=self.batch, batch_row=row,
            created_at=self.now, updated_at=self.now, submitted_at=self.now,
        )

    def add(self, row: int, data: dict, grade_reason: str) -> None:
        self.pending.append((row, data, grade_reason))
        if len(self.pending) >= CHUNK_SIZE:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        if _copy_available():
            values, (payload, reason, number) = list(self.columns), self.slots
            with connection.cursor() as cursor, cursor.copy(self.copy_sql) as copy:
                for row, data, grade_reason in self.pending:
                    # JSON as text: COPY's text format needs no adapter for jsonb.
                    values[payload] = json.dumps(data, ensure_ascii=False)
                    values[reason], values[number] = grade_reason, row
                    copy.write_row(values)
        else:
            RegistrationApplication.objects.bulk_create(
                [self.application(*pending) for pending in self.pending])
        self.count += len(self.pending)
        self.pending = []

    def finish(self) -> None:
        """Write what is left, then the submit step of every application of the batch."""
        self.flush()
        quote = connection.ops.quote_name
        event, application = ApplicationEvent._meta, RegistrationApplication._meta
        columns = ", ".join(quote(event.get_field(name).column) for name in (
            "application", "transition", "from_state", "to_state", "actor", "comment", "at"))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {quote(event.db_table)} ({columns}) "  # noqa: S608 — names only
                f"SELECT {quote(application.pk.column)}, %s, %s, %s, %s, '', %s "
                f"FROM {quote(application.db_table)} "
                f"WHERE {quote(application.get_field('batch').column)} = %s "
                f"ORDER BY {quote(application.pk.column)}",
                [Transition.SUBMIT, ApplicationState.DRAFT, ApplicationState.SUBMITTED,
                 self.actor.pk, self.now, self.batch.pk],
            )


def stage(rows: Sheet, institution: Institution, actor, file_name: str) -> RegistrationBatch:
    """Check ``rows`` and, if every row passes, make them one batch of registration
    applications of ``institution``, submitted for review — all in one transaction.
    Raises :class:`BulkError` with every problem found, having written nothing."""
    with transaction.atomic():
        institution = _reachable(actor, institution)
        batch = RegistrationBatch.objects.create(
            institution=institution, file_name=file_name[:255], created_by=actor)
        stager = _Stager(batch, actor)
        report = validate(rows, institution, actor, sink=stager.add, batch=batch)
        if not report.ok:
            raise BulkError(report.errors, truncated=report.truncated)  # rolls back
        stager.finish()
        batch.rows = stager.count
        batch.save(update_fields=["rows"])
        with ledger_context(actor=actor):
            record(AuditAction.APPLICATION_SUBMITTED, batch, before=None, after={
                "state": ApplicationState.SUBMITTED, "kind": ApplicationKind.REGISTER,
                "applications": batch.rows, "file_name": batch.file_name,
            }, institution=institution)
        _tell_reviewers(batch)
    return batch


def batch_url(batch: RegistrationBatch) -> str:
    try:
        return reverse("registry_bulk:batch", args=[batch.pk])
    except NoReverseMatch:  # the pages are not mounted (a script)
        return ""


def _tell_reviewers(batch: RegistrationBatch) -> None:
    """One notification for the batch, not one per application."""
    from inbox.services import notify

    from .reviewers import reviewers_of

    people = [user for user in reviewers_of(batch.institution)
              if user.pk != batch.created_by_id]

    def subject() -> str:
        return _("To review: %(count)d registration applications from %(institution)s "
                 "(%(file)s)") % {"count": batch.rows, "institution": batch.institution,
                                  "file": batch.file_name}

    notify(people, subject, lambda: "", link=batch_url(batch))


# --- Reviewing a batch --------------------------------------------------------------------


class BatchRefused(Exception):
    """A batch approval that did not happen; the message says which row stopped it."""


def can_review(user, batch: RegistrationBatch) -> bool:
    return user.pk != batch.created_by_id and Institution.objects.restrict(
        user, Action.REVIEW).filter(pk=batch.institution_id).exists()


def approve_batch(batch_id: int, *, actor, comment: str = "") -> int:
    """Approve every submitted application of the batch, each through the workflow, in one
    transaction: if one cannot be approved, none is. Returns how many were approved."""
    with transaction.atomic():
        batch = RegistrationBatch.objects.select_for_update().get(pk=batch_id)
        if not Institution.objects.restrict(actor, Action.REVIEW).filter(
                pk=batch.institution_id).exists():
            raise PermissionDenied(_("Only a data steward with jurisdiction over the holding "
                                     "institution may review this batch."))
        if actor.pk == batch.created_by_id:
            raise PermissionDenied(_("Nobody reviews their own applications."))
        waiting = list(batch.applications.filter(state=ApplicationState.SUBMITTED)
                       .order_by("batch_row", "pk").values_list("pk", "batch_row"))
        for pk, row in waiting:
            try:
                workflow.take(pk, Transition.APPROVE, actor=actor, comment=comment)
            except workflow.InvalidApplication as error:
                reason = " ".join(f"{error.form.fields[name].label}: {message}"
                                  if name in error.form.fields else str(message)
                                  for name, messages in error.form.errors.items()
                                  for message in messages)
            except (workflow.WorkflowError, PermissionDenied) as error:
                reason = str(error)
            else:
                continue
            raise BatchRefused(_(
                "Row %(row)s (application #%(id)d) cannot be approved: %(reason)s Nothing in "
                "the batch was approved.") % {"row": row, "id": pk, "reason": reason})
    return len(waiting)


# --- Writing spreadsheets -----------------------------------------------------------------


def example_row() -> dict[str, object]:
    """A valid example, as a person would fill it in (labels, not codes)."""
    with translation.override("zh-hans"):
        def label(name, code):
            choices = dict(ApplicationLedgerForm.base_fields[name].choices)
            return str(choices[code])

        return {
            "code": "ZYBASY-2026-0001",
            "name": "住院病案首页数据",
            "name_en": "Inpatient medical record front pages",
            "description": "本院住院患者病案首页，含诊断、手术与费用信息。",
            "catalog_class": "",
            "data_format": label("data_format", "structured"),
            "source_system": label("source_system", "emr"),
            "collection_method": label("collection_method", "system"),
            "purposes": "、".join([label("purposes", "clinical_care"),
                                  label("purposes", "management")]),
            "storage_location": "院内数据中心",
            "stored_in_country": "是",
            "record_count": 1200000,
            "storage_bytes": "",
            "individual_count": 350000,
            "update_frequency": label("update_frequency", "daily"),
            "last_data_update": "2026-01-05 08:00:00",
            "responsible_person": "张三",
            "responsible_phone": "0571-88888888",
            "responsible_email": "",
            "categories": "、".join([label("categories", "health_status"),
                                    label("categories", "medical_application")]),
            "grade": label("grade", 3).split(" · ")[0],
            "security_class": label("security_class", "general"),
            "sharing_type": label("sharing_type", "conditional"),
            "sharing_condition": "经数据管理部门审批后共享",
            "open_attribute": label("open_attribute", "not_open"),
            "contains_personal_info": "是",
            "deidentification": label("deidentification", "pseudonymised"),
            "temporal_start": "2015-01-01",
            "temporal_end": "",
            "spatial_coverage": "330000",
            "grade_reason": "",
        }


def template_csv() -> bytes:
    """The template as CSV: UTF-8 with a BOM (so that Excel reads it as UTF-8)."""
    specs = columns()
    example = example_row()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([neutralise(column.header) for column in specs])
    writer.writerow([neutralise(_text(example.get(column.name, ""))) for column in specs])
    return out.getvalue().encode("utf-8-sig")


def template_xlsx() -> bytes:
    """The template as an Excel workbook: the headers (required ones in red), an example
    row, drop-down lists for single choices, and a sheet explaining each column."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    specs = columns()
    example = example_row()
    with translation.override("zh-hans"):
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = _("Assets")[:31]
        header_fill = PatternFill("solid", fgColor="E8F0FB")
        for index, column in enumerate(specs, start=1):
            cell = sheet.cell(row=1, column=index)
            _set_text(cell, column.header)
            cell.font = Font(bold=True, color="B42318" if column.required else "1F2937")
            cell.fill = header_fill
            value = example.get(column.name, "")
            _set_text(sheet.cell(row=2, column=index), value)
            sheet.column_dimensions[_letter(index - 1)].width = max(
                12, min(40, 2 * len(column.header) + 4))
            if column.kind in ("choice", "bool"):
                labels = ([str(label).split(" · ")[0] if column.name == "grade" else str(label)
                           for code, label in column.choices]
                          if column.kind == "choice" else ["是", "否"])
                formula = '"' + ",".join(labels) + '"'
                if len(formula) <= 255 and not any("," in label for label in labels):
                    validation = DataValidation(type="list", formula1=formula,
                                                allow_blank=True, showErrorMessage=False)
                    letter = _letter(index - 1)
                    validation.add(f"{letter}2:{letter}{max_rows() + 1}")
                    sheet.add_data_validation(validation)
        sheet.freeze_panes = "B2"

        notes = workbook.create_sheet(_("Instructions")[:31])
        notes.append([_("Column"), _("English header"), _("Required"), _("Notes"),
                      _("Allowed values")])
        for cell in notes[1]:
            cell.font = Font(bold=True)
            cell.fill = header_fill
        for note in column_notes():
            notes.append([neutralise(note["header"]), neutralise(note["header_en"]),
                          _("Yes") if note["required"] else _("No"),
                          neutralise(note["note"]), neutralise(note["allowed"])])
        notes.append([])
        for line in (
            _("Fill in one asset per row from row 2; the example row may be overwritten or "
              "deleted. Keep the headers of row 1."),
            _("Choices take the name shown or its code. Dates as 2024-01-31."),
            _("At most %(rows)s rows and %(size)s per file. A file with any error writes "
              "nothing: every error is listed with its row and column.")
            % {"rows": f"{max_rows():,}", "size": filesizeformat(max_bytes())},
        ):
            notes.append([neutralise(line)])
        for letter, width in zip("ABCDE", (22, 30, 8, 50, 60), strict=True):
            notes.column_dimensions[letter].width = width
        for row in notes.iter_rows(min_row=2):
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _set_text(cell, value) -> None:
    """Write ``value`` into ``cell``: text as text (never a formula), numbers as numbers."""
    if isinstance(value, str):
        cell.value = neutralise(value)
        cell.data_type = "s"
    else:
        cell.value = value


def error_report_csv(errors: list[tuple]) -> bytes:
    """The problems of a file as CSV (row, column, reason), UTF-8 with a BOM."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Row"), _("Column"), _("Problem")])
    for row, column, message in errors:
        writer.writerow([row or "", neutralise(column), neutralise(message)])
    return out.getvalue().encode("utf-8-sig")
