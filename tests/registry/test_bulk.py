"""Bulk registration: files that are wrong are refused with every reason and write nothing;
a valid file becomes one batch of submitted applications; a steward approves the batch."""

from __future__ import annotations

import csv
import datetime
import io
import random
import zipfile

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import CheckConstraint
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook, load_workbook

from accounts.choices import Role
from audit.models import AuditAction, AuditEvent
from catalog.models import DataAsset
from registry import bulk, workflow
from registry.choices import ApplicationKind, ApplicationState, Transition
from registry.ledger import REGISTER_FIELDS, form_for
from registry.models import ApplicationEvent, RegistrationApplication, RegistrationBatch
from registry.numbers import PATTERN

from ..factories import DataAssetFactory, MembershipFactory, UserFactory
from .conftest import ledger_data

# The pages are mounted here until the site's URLs include them.

pytestmark = pytest.mark.django_db

HYPERLINK = '=HYPERLINK("http://evil.example/x","点我")'
COMMAND = "+cmd|' /C calc'!A0"


# --- Files ------------------------------------------------------------------------------------


def headers() -> list[str]:
    return [column.header for column in bulk.columns()]


def cells(**overrides) -> list:
    """A row of the template's example, with ``overrides`` by field name."""
    values = bulk.example_row()
    values.update(overrides)
    return [values.get(column.name, "") for column in bulk.columns()]


def xlsx_file(rows: list[list], head: list[str] | None = None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers() if head is None else head)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_file(rows: list[list], head: list[str] | None = None, *,
             encoding: str = "utf-8-sig") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers() if head is None else head)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def make(fmt: str, rows: list[list], head: list[str] | None = None) -> bytes:
    return xlsx_file(rows, head) if fmt == "xlsx" else csv_file(rows, head)


def stage(content: bytes, hospital, registrar, name: str = "assets.xlsx") -> RegistrationBatch:
    with bulk.read_rows(io.BytesIO(content)) as sheet:
        return bulk.stage(sheet, hospital, registrar, name)


def nothing_written() -> bool:
    return not (RegistrationBatch.objects.exists() or RegistrationApplication.objects.exists()
                or ApplicationEvent.objects.exists()
                or AuditEvent.objects.filter(action=AuditAction.APPLICATION_SUBMITTED).exists())


def problems(content: bytes, hospital, registrar, *, language: str = "en") -> list[tuple]:
    """The (row, column, message) of every problem; asserts that nothing was written."""
    with translation.override(language), pytest.raises(bulk.BulkError) as caught:
        stage(content, hospital, registrar)
    assert nothing_written()
    return [error.as_tuple() for error in caught.value.errors]


EXPECTED_PAYLOAD = {
    "code": "ZYBASY-2026-0001",
    "name": "住院病案首页数据",
    "name_en": "Inpatient medical record front pages",
    "description": "本院住院患者病案首页，含诊断、手术与费用信息。",
    "catalog_class": "",
    "data_format": "structured",
    "source_system": "emr",
    "collection_method": "system",
    "purposes": ["clinical_care", "management"],
    "storage_location": "院内数据中心",
    "stored_in_country": "on",
    "record_count": "1200000",
    "storage_bytes": "",
    "individual_count": "350000",
    "update_frequency": "daily",
    "last_data_update": "2026-01-05T08:00:00",
    "responsible_person": "张三",
    "responsible_phone": "0571-88888888",
    "responsible_email": "",
    "categories": ["health_status", "medical_application"],
    "grade": "3",
    "security_class": "general",
    "sharing_type": "conditional",
    "sharing_condition": "经数据管理部门审批后共享",
    "open_attribute": "not_open",
    "contains_personal_info": "on",
    "deidentification": "pseudonymised",
    "temporal_start": "2015-01-01",
    "temporal_end": "",
    "spatial_coverage": "330000",
}


# --- Valid files --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_valid_file_stages_one_submitted_application_per_row(fmt, hospital, registrar):
    content = make(fmt, [cells(code=f"BULK-000{n}") for n in range(1, 4)])
    batch = stage(content, hospital, registrar, f"assets.{fmt}")

    assert batch.rows == 3 and batch.institution == hospital and batch.created_by == registrar
    applications = list(batch.applications.order_by("batch_row"))
    assert [a.batch_row for a in applications] == [2, 3, 4]
    for number, application in enumerate(applications, start=1):
        assert application.kind == ApplicationKind.REGISTER
        assert application.state == ApplicationState.SUBMITTED and application.submitted_at
        assert application.institution == hospital and application.applicant == registrar
        assert application.payload == {**EXPECTED_PAYLOAD, "code": f"BULK-000{number}"}
        # What the reviewer's approval will check: the full form, with its queries.
        assert form_for(ApplicationKind.REGISTER, hospital, asset=None,
                        data=application.payload).is_valid()
    steps = ApplicationEvent.objects.filter(application__batch=batch)
    assert sorted(steps.values_list("transition", "from_state", "to_state", "actor")) == [
        (Transition.SUBMIT, ApplicationState.DRAFT, ApplicationState.SUBMITTED, registrar.pk)
    ] * 3
    audited = AuditEvent.objects.get(action=AuditAction.APPLICATION_SUBMITTED)
    assert audited.actor == registrar and audited.after["applications"] == 3


def test_payload_has_every_ledger_field(hospital, registrar):
    batch = stage(csv_file([cells()]), hospital, registrar)
    assert set(batch.applications.get().payload) == set(REGISTER_FIELDS)


def test_excel_cell_types_become_form_data(hospital, registrar):
    row = cells(record_count=1200000.0, individual_count=350000,
                temporal_start=datetime.datetime(2015, 1, 1),  # noqa: DTZ001 — an Excel date
                last_data_update=datetime.datetime(2026, 1, 5, 8, 0),  # noqa: DTZ001
                stored_in_country=True, contains_personal_info=True, spatial_coverage=330000)
    batch = stage(xlsx_file([row]), hospital, registrar)
    assert batch.applications.get().payload == EXPECTED_PAYLOAD


def test_english_headers_codes_and_other_separators(hospital, registrar):
    english = [column.header_en for column in bulk.columns()]
    row = cells(data_format="structured", source_system="EMR",
                purposes="clinical_care; Management and supervision",
                categories="Health status,medical_application", grade="Grade 3",
                stored_in_country="yes", contains_personal_info="TRUE", sharing_type="conditional",
                deidentification="Pseudonymised (re-identifiable)", temporal_start="2015/1/1",
                last_data_update="2026-01-05 08:00")
    batch = stage(csv_file([row], english), hospital, registrar)
    assert batch.applications.get().payload == EXPECTED_PAYLOAD


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk", "gb18030"])
def test_csv_in_utf8_with_or_without_bom_and_in_gbk(encoding, hospital, registrar):
    content = csv_file([cells()], encoding=encoding)
    with bulk.read_rows(io.BytesIO(content)) as sheet:
        assert sheet.kind == "csv" and sheet.headers[0] == "资产编码"
        batch = bulk.stage(sheet, hospital, registrar, "assets.csv")
    assert batch.applications.get().payload == EXPECTED_PAYLOAD


def test_excel_unicode_text_and_old_mac_line_ends(hospital, registrar):
    """Excel's "Unicode text" is UTF-16 with a BOM, separated by tabs."""
    rows = ["\t".join(headers()), "\t".join(str(value) for value in cells(code="BULK-0001"))]
    stage(("\r\n".join(rows) + "\r\n").encode("utf-16"), hospital, registrar)
    rows = [",".join(headers()), ",".join(str(value) for value in cells(code="BULK-0002"))]
    stage("\r".join(rows).encode("utf-8"), hospital, registrar)
    assert [a.payload for a in RegistrationApplication.objects.order_by("batch__id")] == [
        {**EXPECTED_PAYLOAD, "code": "BULK-0001"}, {**EXPECTED_PAYLOAD, "code": "BULK-0002"}]


def test_format_is_told_by_content_not_by_name(hospital, registrar):
    upload = SimpleUploadedFile("assets.csv", xlsx_file([cells()]))
    with bulk.read_rows(upload) as sheet:
        assert sheet.kind == "xlsx"


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_template_round_trip(fmt, client, registrar, hospital):
    client.force_login(registrar)
    template = client.get(reverse(f"registry_bulk:template_{fmt}"))
    assert template.status_code == 200
    assert "attachment" in template["Content-Disposition"]
    content = template.content
    if fmt == "csv":
        assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel
        assert content.decode("utf-8-sig").splitlines()[0].split(",")[:2] == ["资产编码", "名称"]
    else:
        workbook = load_workbook(io.BytesIO(content))
        assert [cell.value for cell in workbook.worksheets[0][1]][:2] == ["资产编码", "名称"]
        assert workbook.worksheets[1].max_row > len(bulk.columns())  # the instructions

    response = client.post(reverse("registry_bulk:upload"), {
        "institution": hospital.pk, "file": SimpleUploadedFile(f"template.{fmt}", content)})
    batch = RegistrationBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("registry_bulk:batch", args=[batch.pk])
    assert batch.applications.get().payload == EXPECTED_PAYLOAD
    page = client.get(response["Location"])
    assert page.status_code == 200 and "ZYBASY-2026-0001" in page.content.decode()


# --- Wrong files --------------------------------------------------------------------------------


def test_missing_and_renamed_headers(hospital, registrar):
    head = headers()
    row = cells()
    name = head.index("名称")
    del head[name], row[name]
    head[head.index("共享类型")] = "共享方式"
    found = problems(csv_file([row], head), hospital, registrar)
    assert (1, "共享方式",
            "Unknown column “共享方式” (column V): did you mean “共享类型”?") in found
    assert (1, "名称", "The required column “名称” is missing.") in found
    assert (1, "共享类型", "The required column “共享类型” is missing.") in found
    assert all(row == 1 for row, _column, _message in found)  # no row repeats it


def test_duplicate_headers(hospital, registrar):
    head, row = [*headers(), "名称"], [*cells(), "另一个名称"]
    found = problems(csv_file([row], head), hospital, registrar)
    assert found == [(1, "名称", "The column “名称” appears twice (columns B and AF).")]


def test_headers_of_nothing_we_know(hospital, registrar):
    found = problems(csv_file([["a", "b"]], ["foo", "bar"]), hospital, registrar)
    assert found[0][:2] == (1, "foo") and "Unknown column" in found[0][2]
    assert (1, "资产编码", "The required column “资产编码” is missing.") in found


@pytest.mark.parametrize(("content", "message"), [
    (b"", "The file is empty."),
    (b"\xef\xbb\xbf", "The file is empty."),
    (b"\r\n\r\n", "The file is empty."),
])
def test_an_empty_file(content, message, hospital, registrar):
    assert problems(content, hospital, registrar) == [(None, "", message)]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_headers_but_no_rows(fmt, hospital, registrar):
    assert problems(make(fmt, []), hospital, registrar) == [
        (None, "", "The file has a header row but no data rows.")]


def test_an_empty_workbook(hospital, registrar):
    out = io.BytesIO()
    Workbook().save(out)
    assert problems(out.getvalue(), hospital, registrar) == [(None, "", "The file is empty.")]


def test_ten_megabytes_of_garbage(hospital, registrar):
    garbage = random.Random(7).randbytes(10 * 2**20)
    assert problems(garbage, hospital, registrar) == [(None, "", (
        "The file is neither an Excel workbook (.xlsx) nor a CSV file in UTF-8 or GBK."))]


NOT_A_WORKBOOK = [(None, "", "The file cannot be read as an Excel workbook (.xlsx): it is "
                                "damaged, or another kind of file.")]


def test_binary_that_is_not_text(hospital, registrar):
    assert problems(b"name,code\x00\x01\x02\n", hospital, registrar) == [(None, "", (
        "The file is neither an Excel workbook (.xlsx) nor a CSV file in UTF-8 or GBK."))]


def test_zips_that_are_not_workbooks(hospital, registrar):
    garbage = b"PK\x03\x04" + random.Random(8).randbytes(4096)  # looks like a zip, is not
    assert problems(garbage, hospital, registrar) == NOT_A_WORKBOOK
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:  # a zip, but no workbook (an .odt, a .docx)
        archive.writestr("hello.txt", "不是表格")
    assert problems(out.getvalue(), hospital, registrar) == NOT_A_WORKBOOK
    damaged = xlsx_file([cells()])
    assert problems(damaged[:len(damaged) // 2], hospital, registrar) == NOT_A_WORKBOOK


def test_old_excel_files_are_named(hospital, registrar):
    content = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512)
    assert "old Excel file (.xls)" in problems(content, hospital, registrar)[0][2]


def test_a_file_over_the_size_limit(settings, hospital, registrar):
    settings.BULK_MAX_BYTES = 100
    found = problems(csv_file([cells()]), hospital, registrar)
    assert found[0][2].startswith("The file is ") and "at most 100" in found[0][2]


def rezipped(content: bytes, member: str, replace) -> bytes:
    original = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in original.infolist():
            data = original.read(info.filename)
            archive.writestr(info, replace(data) if info.filename == member else data)
    return out.getvalue()


def test_a_workbook_damaged_inside(hospital, registrar):
    content = xlsx_file([cells(code=f"BULK-000{n}") for n in range(6)])
    broken = rezipped(content, "xl/worksheets/sheet1.xml", lambda xml: xml[:len(xml) * 2 // 3])
    found = problems(broken, hospital, registrar)
    assert len(found) == 1 and found[0][2].startswith("The workbook is damaged after row ")


def test_a_workbook_with_an_entity_bomb(hospital, registrar):
    """XML entity expansion ("billion laughs") is refused by the parser, not expanded."""
    laughs = ['<!ENTITY l0 "ha">'] + [
        f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10)]
    bomb = ('<?xml version="1.0"?><!DOCTYPE worksheet [' + "".join(laughs) + "]>"
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&l9;</t></is></c></row>'
            "</sheetData></worksheet>")
    content = rezipped(xlsx_file([cells()]), "xl/worksheets/sheet1.xml", lambda xml: bomb.encode())
    assert problems(content, hospital, registrar) == NOT_A_WORKBOOK


def test_a_workbook_that_unpacks_too_far(settings, hospital, registrar):
    """A "zip bomb": little to upload, a lot to unpack."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b" " * (4 * 2**20))
    settings.BULK_MAX_BYTES = 100_000
    assert "unpacks to more than" in problems(out.getvalue(), hospital, registrar)[0][2]


def test_more_rows_than_allowed(settings, hospital, registrar):
    settings.BULK_MAX_ROWS = 3
    content = csv_file([cells(code=f"BULK-000{n}") for n in range(4)])
    assert problems(content, hospital, registrar) == [
        (None, "", "The file has more than 3 rows: upload at most 3 at a time.")]


def test_three_bad_rows_are_all_reported_in_chinese(zh_client, registrar, hospital):
    rows = [
        cells(code="BULK-0001"),
        cells(code="BULK-0002", name=""),  # row 3: a required value missing
        cells(code="BULK-0003"),
        cells(code="BULK-0004", responsible_email="不是邮箱"),  # row 5
        cells(code="BULK-0005", deidentification="不适用"),  # row 6: personal, not de-identified
        cells(code="BULK-0006"),
    ]
    zh_client.force_login(registrar)
    response = zh_client.post(reverse("registry_bulk:upload"), {
        "institution": hospital.pk, "file": SimpleUploadedFile("资产.csv", csv_file(rows))})
    assert response.status_code == 200
    assert nothing_written()
    errors = [error.as_tuple() for error in response.context["errors"]]
    assert errors == [
        (3, "名称", "该字段是必填项。"),
        (5, "责任人电子邮箱", "请输入合法的邮件地址。"),
        (6, "去标识化状态", "请说明该数据中的个人信息如何去标识化。"),
    ]
    html = response.content.decode()
    for _row, column, message in errors:
        assert column in html and message in html
    # The same problems, downloadable (and only by the uploader).
    token = response.context["token"]
    report = zh_client.get(reverse("registry_bulk:error_report", args=[token]))
    assert report.status_code == 200
    lines = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert lines[1:] == [[str(row), column, message] for row, column, message in errors]
    other = UserFactory(username="other")
    zh_client.force_login(other)
    assert zh_client.get(reverse("registry_bulk:error_report", args=[token])).status_code == 404


def test_every_problem_of_a_row_and_of_the_cells(hospital, registrar):
    rows = [
        cells(code="bulk 1", grade="9", data_format="表格", purposes="临床诊疗、炒股",
              stored_in_country="也许", record_count="-5", temporal_start="2020-01-01",
              temporal_end="2019-01-01", spatial_coverage="999999", catalog_class="NOPE"),
    ]
    found = problems(csv_file(rows), hospital, registrar)
    by_column = {column: message for row, column, message in found}
    assert all(row == 2 for row, _c, _m in found)
    assert by_column["资产编码"].startswith("Use 4–40 capital letters")
    assert by_column["敏感级别"].startswith("“9” is not one of: Grade 1")
    assert by_column["数据格式"].startswith("“表格” is not one of:")
    assert by_column["用途"].startswith("Unknown: 炒股. Allowed: Clinical care")
    assert by_column["境内存储"] == "Enter 是 (yes) or 否 (no)."
    assert by_column["记录数"] == "Ensure this value is greater than or equal to 0."
    assert by_column["时间范围止"] == "The coverage must start before it ends."
    assert by_column["空间范围"] == "No region has the code “999999”."
    assert by_column["目录分类"] == "No catalog class has the code “NOPE”."
    # In the order of the columns.
    columns = [column for _row, column, _message in found]
    assert columns == sorted(columns, key=headers().index)


def test_checks_mirror_every_check_constraint_of_the_asset():
    """The bulk check leaves out the model's constraints (a query each): each must be
    enforced by a field or DataAsset.clean instead — add it there and here."""
    constraints = {c.name for c in DataAsset._meta.constraints if isinstance(c, CheckConstraint)}
    assert constraints == bulk.MIRRORED_CONSTRAINTS


def test_a_grade_below_the_suggestion_needs_the_reason_column(hospital, registrar):
    found = problems(csv_file([cells(grade="1")]), hospital, registrar)
    assert [(row, column) for row, column, _m in found] == [(2, "敏感级别")]
    batch = stage(csv_file([cells(grade="1", grade_reason="仅含汇总统计")]), hospital, registrar)
    assert batch.applications.get().grade_reason == "仅含汇总统计"


def test_duplicate_codes_within_the_file(hospital, registrar):
    rows = [cells(code="BULK-0001"), cells(code="BULK-0002"), cells(code="BULK-0001")]
    assert problems(csv_file(rows), hospital, registrar) == [
        (4, "资产编码", "The code BULK-0001 is used twice: in rows 2 and 4.")]


def test_codes_already_in_the_catalog_with_one_query(hospital, registrar):
    DataAssetFactory(code="BULK-0002", holder=hospital)
    rows = [cells(code=f"BULK-000{n}") for n in range(1, 4)]
    assert problems(csv_file(rows), hospital, registrar) == [
        (3, "资产编码", "The catalog already has an asset with the code BULK-0002.")]


def test_codes_proposed_by_an_application_under_review(hospital, registrar):
    first = stage(csv_file([cells(code="BULK-0001")]), hospital, registrar)
    application = first.applications.get()
    with translation.override("en"), pytest.raises(bulk.BulkError) as caught:
        stage(csv_file([cells(code="BULK-0001")]), hospital, registrar)
    assert [e.as_tuple() for e in caught.value.errors] == [(2, "资产编码", (
        f"Application #{application.pk}, under review, already proposes the code BULK-0001."))]
    assert RegistrationBatch.objects.get() == first


def test_no_query_per_row(hospital, registrar):
    def queries(count: int) -> int:
        content = csv_file([cells(code=f"BULK-{n:04d}", spatial_coverage="330106")
                            for n in range(count)])
        with bulk.read_rows(io.BytesIO(content)) as sheet, \
                CaptureQueriesContext(connection) as captured:
            assert bulk.validate(sheet, hospital, registrar).ok
        return len(captured)

    queries(1)  # the registrar's memberships, read once per user object
    assert queries(1) == queries(40) <= 5


@pytest.mark.parametrize("overrides", [
    {}, {"name": ""}, {"grade": "9"}, {"grade": "1"}, {"record_count": "-1"},
    {"record_count": "abc"}, {"temporal_start": "2020-01-01", "temporal_end": "2019-01-01"},
    {"open_attribute": "open"}, {"sharing_type": "not_shared", "sharing_condition": ""},
    {"contains_personal_info": "", "deidentification": "identified"},
    {"spatial_coverage": "999999"}, {"spatial_coverage": "330106"},
    {"responsible_phone": "abc"}, {"responsible_email": "a@"}, {"code": "bad code"},
    {"purposes": ["nope"]}, {"categories": []}, {"last_data_update": "yesterday"},
    {"last_data_update": "2026-01-05T08:00:00", "stored_in_country": ""},
])
def test_the_bulk_check_says_what_the_form_says(overrides, hospital):
    """The shortcuts of the bulk check (shared fields, objects loaded once, no constraint
    queries) change nothing of what the registration form finds — but the code's
    uniqueness, which is checked for the whole file at once."""
    data = ledger_data(**overrides)
    checker = bulk._RowChecker(hospital, bulk._objects()[1])
    expected = form_for(ApplicationKind.REGISTER, hospital, asset=None, data=data)
    for _twice in range(2):
        assert checker.check(data, "").errors.get_json_data() == expected.errors.get_json_data()


def test_without_copy_the_rows_are_written_through_the_orm(monkeypatch, hospital, registrar):
    monkeypatch.setattr(bulk, "_copy_available", lambda: False)
    batch = stage(csv_file([cells(code="BULK-0001"), cells(code="BULK-0002")]), hospital,
                  registrar)
    assert [a.payload for a in batch.applications.order_by("batch_row")] == [
        {**EXPECTED_PAYLOAD, "code": "BULK-0001"}, {**EXPECTED_PAYLOAD, "code": "BULK-0002"}]
    assert ApplicationEvent.objects.filter(application__batch=batch).count() == 2


def test_one_form_per_row_leaks_nothing_between_rows(hospital, registrar):
    rows = [cells(code="BULK-0001", name=""), cells(code="BULK-0002"),
            cells(code="BULK-0003", responsible_email="x")]
    with bulk.read_rows(io.BytesIO(csv_file(rows))) as sheet:
        report = bulk.validate(sheet, hospital, registrar)
    assert [(e.row, e.column) for e in report.errors] == [(2, "名称"), (4, "责任人电子邮箱")]


# --- Formulas -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_formula_cells_are_kept_as_text(fmt, hospital, registrar, steward):
    content = make(fmt, [cells(name=HYPERLINK, storage_location=COMMAND)])
    batch = stage(content, hospital, registrar)
    payload = batch.applications.get().payload
    assert payload["name"] == HYPERLINK and payload["storage_location"] == COMMAND
    bulk.approve_batch(batch.pk, actor=steward)
    asset = DataAsset.objects.get(code=EXPECTED_PAYLOAD["code"])
    assert asset.name == HYPERLINK and asset.storage_location == COMMAND


def test_neutralise():
    assert bulk.neutralise(HYPERLINK) == "'" + HYPERLINK
    assert bulk.neutralise(COMMAND) == "'" + COMMAND
    for text in ("-2+3", "@SUM(A1)", "\t=1", "\r=1"):
        assert bulk.neutralise(text) == "'" + text
    for value in ("住院病案", "0571-88888888", "", 12, None, "a=b"):
        assert bulk.neutralise(value) == value


def test_written_spreadsheets_neutralise_their_cells():
    error = (2, "=HYPERLINK(\"x\")", "+cmd is not one of: @a")
    text = bulk.error_report_csv([error]).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text)))[1] == ["2", "'=HYPERLINK(\"x\")",
                                                      "'+cmd is not one of: @a"]
    workbook = load_workbook(io.BytesIO(bulk.template_xlsx()))
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", cell.coordinate


# --- Reviewing the batch ------------------------------------------------------------------------


def staged_batch(hospital, registrar, count: int = 2) -> RegistrationBatch:
    return stage(csv_file([cells(code=f"BULK-000{n}") for n in range(1, count + 1)]),
                 hospital, registrar)


def test_a_steward_approves_the_whole_batch(client, steward, registrar, hospital):
    batch = staged_batch(hospital, registrar)
    client.force_login(steward)
    page = client.get(reverse("registry_bulk:batch", args=[batch.pk]))
    assert page.status_code == 200 and page.context["can_review"]
    response = client.post(reverse("registry_bulk:approve", args=[batch.pk]), {"comment": "同意"})
    assert response.status_code == 302
    assets = DataAsset.objects.filter(code__startswith="BULK-").order_by("code")
    assert [a.code for a in assets] == ["BULK-0001", "BULK-0002"]
    for asset in assets:
        assert PATTERN.match(asset.registration_number) and asset.holder == hospital
    states = set(batch.applications.values_list("state", "registration_number"))
    assert states == {(ApplicationState.APPROVED, a.registration_number) for a in assets}
    assert "2 applications of the batch were approved." in [
        str(m) for m in client.get(response["Location"]).context["messages"]]


def test_the_uploader_cannot_approve(client, steward_registrar, hospital):
    batch = staged_batch(hospital, steward_registrar)  # a steward who is also the registrar
    client.force_login(steward_registrar)
    assert not client.get(reverse("registry_bulk:batch", args=[batch.pk])).context["can_review"]
    response = client.post(reverse("registry_bulk:approve", args=[batch.pk]))
    assert response.status_code == 403
    assert not DataAsset.objects.filter(code__startswith="BULK-").exists()
    assert set(batch.applications.values_list("state", flat=True)) == {ApplicationState.SUBMITTED}


def test_one_row_that_cannot_be_approved_stops_the_batch(client, steward, registrar, hospital):
    batch = staged_batch(hospital, registrar)
    DataAssetFactory(code="BULK-0002")  # registered meanwhile, by someone else
    client.force_login(steward)
    response = client.post(reverse("registry_bulk:approve", args=[batch.pk]), follow=True)
    message = [str(m) for m in response.context["messages"]][0]
    assert message.startswith("Row 3 (application #")
    assert "Nothing in the batch was approved." in message
    assert not DataAsset.objects.filter(code="BULK-0001").exists()
    assert set(batch.applications.values_list("state", flat=True)) == {ApplicationState.SUBMITTED}


def test_single_rows_are_reviewed_on_their_own_pages(client, steward, registrar, hospital):
    batch = staged_batch(hospital, registrar)
    first, second = batch.applications.order_by("batch_row")
    client.force_login(steward)
    html = client.get(reverse("registry_bulk:batch", args=[batch.pk])).content.decode()
    assert reverse("registry:detail", args=[first.pk]) in html
    workflow.take(first.pk, Transition.REJECT, actor=steward, comment="重复登记")
    assert bulk.approve_batch(batch.pk, actor=steward) == 1  # the open one
    second.refresh_from_db()
    assert second.state == ApplicationState.APPROVED


# --- Who may ------------------------------------------------------------------------------------


@pytest.fixture
def far_registrar(far_hospital):
    return MembershipFactory(user=UserFactory(username="far_registrar"),
                             institution=far_hospital, role=Role.REGISTRAR).user


def test_a_registrar_of_another_institution(client, far_registrar, registrar, hospital):
    batch = staged_batch(hospital, registrar)
    client.force_login(far_registrar)
    assert client.get(reverse("registry_bulk:batch", args=[batch.pk])).status_code == 404
    assert client.post(reverse("registry_bulk:approve", args=[batch.pk])).status_code == 404
    response = client.post(reverse("registry_bulk:upload"), {
        "institution": hospital.pk, "file": SimpleUploadedFile("a.csv", csv_file([cells()]))})
    assert response.status_code == 403
    assert RegistrationBatch.objects.count() == 1
    with pytest.raises(PermissionDenied):
        stage(csv_file([cells(code="BULK-0009")]), hospital, far_registrar)


def test_a_steward_of_another_jurisdiction(client, other_county_steward, registrar, hospital):
    batch = staged_batch(hospital, registrar)
    client.force_login(other_county_steward)
    assert client.get(reverse("registry_bulk:batch", args=[batch.pk])).status_code == 404
    with pytest.raises(PermissionDenied):
        bulk.approve_batch(batch.pk, actor=other_county_steward)


def test_the_upload_page_is_for_registrars(client, steward, registrar):
    client.force_login(steward)
    assert client.get(reverse("registry_bulk:upload")).status_code == 403
    client.force_login(registrar)
    page = client.get(reverse("registry_bulk:upload"))
    assert page.status_code == 200
    assert "资产编码" in page.content.decode()  # the columns, by their headers
    client.logout()
    assert client.get(reverse("registry_bulk:upload")).status_code == 302


def test_the_pages_in_chinese(zh_client, registrar, hospital):
    batch = staged_batch(hospital, registrar)
    zh_client.force_login(registrar)
    for url in (reverse("registry_bulk:upload"), reverse("registry_bulk:batch", args=[batch.pk])):
        response = zh_client.get(url)
        assert response.status_code == 200 and '<html lang="zh-hans">' in response.content.decode()
