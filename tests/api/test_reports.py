"""The report endpoints through the permission matrix: the figures are the report page's,
the archive lists what ``ArchivedReport.objects.restrict`` allows (someone else's export is
404 like a missing one), an export runs its job and downloads exactly its scope's rows into
the audit trail, bad input is refused with nothing created, and queries stay bounded."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.choices import InstitutionType, Role
from audit.models import AuditAction, AuditEvent
from reports.choices import FileStatus, ReportKind
from reports.models import ArchivedReport, ReportFile

from ..factories import InstitutionFactory, UserFactory, region
from ..reports.conftest import person, world  # noqa: F401  (the reports' world, reused)
from ..reports.test_archive import archive_dir, jobs, read_csv  # noqa: F401  (fixtures)
from .conftest import as_user, walk
from .test_schemathesis import OPERATIONS  # the schema as served (loaded before any test)

pytestmark = pytest.mark.django_db

LIST = reverse("api:report-list")
FIGURES = reverse("api:report-figures")
COMPARE = reverse("api:report-compare")

# Each user of the matrix, and the holder regions their report reaches (None: refused).
PREFIX = {
    "national_staff": "", "province_staff": "33", "county_staff": "330106",
    "city_steward": "3301", "auditor": "33", "superuser": "",
    "registrar": None, "officer": None,
}
MATRIX = [*PREFIX, "anonymous"]


@pytest.fixture
def people(world):  # noqa: F811
    """A user per role of the matrix, in the reports' world (and a national commission)."""
    from django.contrib.auth.models import AnonymousUser

    national = InstitutionFactory(commission=True, name="国家卫生健康委员会", region=None)
    xihu = world.users["xihu_steward"].memberships.get().institution
    return {
        "national_staff": person("national-staff", national, Role.COMMISSION_STAFF),
        "province_staff": world.users["staff"],
        "county_staff": person("county-staff", xihu, Role.COMMISSION_STAFF),
        "city_steward": world.users["city_steward"],
        "auditor": world.users["auditor"],
        "superuser": UserFactory(username="root", is_superuser=True, is_staff=True),
        "registrar": world.users["registrar"],
        "officer": person("officer", world.institutions["haishu"],
                          Role.PUBLIC_HEALTH_OFFICER),
        "anonymous": AnonymousUser(),
        "national": national,
    }


def codes_in(world, prefix: str, **attrs) -> list[str]:  # noqa: F811
    return sorted(
        a.code for a in world.assets
        if a.holder.region_id.startswith(prefix)
        and all(getattr(a, name) == value for name, value in attrs.items())
    )


def commission(world, key: str):  # noqa: F811
    return world.users[key].memberships.get().institution


def monthly(commission, period: date, snapshot: dict | None = None) -> ArchivedReport:
    return ArchivedReport.objects.create(
        kind=ReportKind.MONTHLY, commission=commission, scope=commission.region, period=period,
        snapshot=snapshot or {"total": 0}, expires_at=timezone.now() + timedelta(days=30),
    )


def on_demand(user, scope_code: str | None, **kwargs) -> ArchivedReport:
    return ArchivedReport.objects.create(
        kind=ReportKind.ON_DEMAND, requested_by=user,
        scope=region(scope_code) if scope_code else None, snapshot={"total": 1},
        expires_at=timezone.now() + timedelta(days=30), **kwargs,
    )



def page_snapshot(client, user, **filters) -> dict:
    """What the report page embeds for its charts, for the same query string."""
    client.force_login(user)
    response = client.get(reverse("reports:report"), filters)
    assert response.status_code == 200
    return response.context["snapshot"]


def without_time(snapshot: dict) -> dict:
    return {k: v for k, v in snapshot.items() if k != "generated_at"}


def download_url(report_id, file_id) -> str:
    return reverse("api:report-file-download", args=[report_id, file_id])


# --- Figures --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", MATRIX)
def test_figures_are_the_pages_for_each_user(world, people, api, client, who):  # noqa: F811
    user = people[who]
    response = as_user(api, user).get(FIGURES)
    if who == "anonymous":
        assert response.status_code == 401
        return
    if PREFIX[who] is None:
        assert response.status_code == 403
        assert response.json()["detail"] == (
            "Reports are for the staff, stewards and auditors of a health commission.")
        return
    assert response.status_code == 200, response.content
    data = response.json()
    assert without_time(data) == without_time(page_snapshot(client, user))
    assert data["total"] == len(codes_in(world, PREFIX[who])) > 0


@pytest.mark.parametrize("filters", [
    {"region": "330100", "grade": "3"},
    {"status": "registered", "category": "health_status"},
    {"institution_type": InstitutionType.TERTIARY_HOSPITAL, "sharing_type": "not_shared"},
    {"region": "330106"},
])
def test_figures_follow_the_pages_filters(world, api, client, filters):  # noqa: F811
    user = world.users["province_steward"]
    data = as_user(api, user).get(FIGURES, filters).json()
    assert without_time(data) == without_time(page_snapshot(client, user, **filters))
    # The filters narrow what is counted (the page's own figures would agree on any bug).
    assert data["total"] < len(codes_in(world, "33"))
    if "region" in filters:
        assert data["scope"]["code"] == filters["region"]


def test_figures_refuse_invalid_values_the_page_ignores(world, api, client):  # noqa: F811
    user = world.users["province_steward"]
    response = as_user(api, user).get(FIGURES, {"grade": "9", "category": "x", "region": "33"})
    assert response.status_code == 400
    assert set(response.json()) == {"grade", "category", "region"}
    assert "9" in response.json()["grade"][0]
    # The page shows the whole report instead.
    client.force_login(user)
    assert client.get(reverse("reports:report"), {"grade": "9"}).status_code == 200


@pytest.mark.parametrize(("who", "code"), [
    ("county_staff", "330102"), ("city_steward", "330203"), ("province_staff", "440106"),
    ("province_staff", "999999"),
])
def test_figures_of_a_region_outside_the_jurisdiction_are_not_found(
        world, people, api, who, code):  # noqa: F811
    response = as_user(api, people[who]).get(FIGURES, {"region": code})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# --- The archive: list and detail -----------------------------------------------------------


@pytest.fixture
def archived(world, people):  # noqa: F811
    """Monthly reports of every commission (the national one too) and one export each of
    three users."""
    reports = [monthly(people["national"], date(2026, 9, 1))]
    for key in ("province_steward", "city_steward", "xihu_steward", "shangcheng_steward",
                "haishu_steward", "guangdong_steward"):
        reports.append(monthly(commission(world, key), date(2026, 9, 1)))
    reports += [
        on_demand(people["county_staff"], "330106"),
        on_demand(people["province_staff"], "330100"),
        on_demand(people["national_staff"], None),
        on_demand(world.users["xihu_steward"], "330106"),
    ]
    for report in reports:
        ReportFile.objects.create(report=report, format="csv")
    return reports


def expected_reports(reports, user, prefix: str) -> set[int]:
    return {
        r.pk for r in reports
        if (r.kind == ReportKind.MONTHLY or r.requested_by_id == user.pk)
        and (r.scope_id or "").startswith(prefix) and (prefix == "" or r.scope_id)
    }


@pytest.mark.parametrize("who", MATRIX)
def test_list_and_detail_follow_the_scoping_rule(world, people, archived, api, who):  # noqa: F811
    user = people[who]
    as_user(api, user)
    response = api.get(LIST)
    if who == "anonymous" or PREFIX[who] is None:
        assert response.status_code == (401 if who == "anonymous" else 403)
        report = archived[0]
        assert api.get(reverse("api:report-detail", args=[report.pk])).status_code == (
            response.status_code)
        file = report.files.get()
        assert api.get(download_url(report.pk, file.pk)).status_code == response.status_code
        assert api.get(COMPARE, {"a": report.pk, "b": archived[1].pk}).status_code == (
            response.status_code)
        return
    listed = [row["id"] for row in walk(api, LIST)]
    expected = expected_reports(archived, user, PREFIX[who])
    assert len(listed) == len(set(listed)) and set(listed) == expected
    assert set(listed) == set(ArchivedReport.objects.restrict(user).values_list("pk", flat=True))
    assert listed == sorted(listed, reverse=True)
    for report in archived:
        detail = api.get(reverse("api:report-detail", args=[report.pk]))
        if report.pk in expected:
            assert detail.status_code == 200
            assert detail.json()["snapshot"] == report.snapshot
        else:
            assert detail.status_code == 404, report
            assert detail.json() == {"detail": "Not found.", "code": "not_found"}


def test_representation_of_an_archived_report(world, api):  # noqa: F811
    xihu = commission(world, "xihu_steward")
    report = monthly(xihu, date(2026, 9, 1), {"total": 7, "title": "月度报告"})
    ReportFile.objects.create(report=report, format="pdf", status=FileStatus.DONE,
                              rows_total=0, size=1234, path="x.pdf")
    ReportFile.objects.create(report=report, format="xlsx", status=FileStatus.RUNNING,
                              rows_total=200, rows_done=50)
    as_user(api, world.users["xihu_steward"])
    data = api.get(reverse("api:report-detail", args=[report.pk])).json()
    assert data["kind"] == "monthly" and data["kind_label"] == "Monthly report"
    assert data["period"] == "2026-09-01" and data["scope"] == "330106"
    assert data["commission"] == {"id": xihu.pk, "name": xihu.name,
                                  "credit_code": xihu.credit_code}
    assert data["snapshot"] == {"total": 7, "title": "月度报告"}
    files = {f["format"]: f for f in data["files"]}
    assert files["pdf"]["status"] == "done" and files["pdf"]["percent"] == 100
    assert files["pdf"]["size"] == 1234
    assert files["pdf"]["download_url"].endswith(
        download_url(report.pk, files["pdf"]["id"]))
    assert files["xlsx"]["percent"] == 25 and files["xlsx"]["status_label"] == "Being produced"
    assert files["xlsx"]["download_url"] is None
    # The list leaves the figures out.
    (row,) = api.get(LIST).json()["results"]
    assert "snapshot" not in row and row["files"]


def test_list_filters_by_kind(world, archived, api):  # noqa: F811
    user = world.users["xihu_steward"]
    as_user(api, user)
    mine = [r["id"] for r in walk(api, LIST, {"kind": "on_demand"})]
    assert mine == [archived[-1].pk]
    assert {r["kind"] for r in walk(api, LIST, {"kind": "monthly"})} == {"monthly"}
    response = api.get(LIST, {"kind": "weekly"})
    assert response.status_code == 400 and "kind" in response.json()


def test_cursor_pages(world, api):  # noqa: F811
    xihu = commission(world, "xihu_steward")
    made = [monthly(xihu, date(2020 + n // 12, n % 12 + 1, 1)).pk for n in range(23)]
    as_user(api, world.users["xihu_steward"])
    first = api.get(LIST, {"page_size": 10}).json()
    assert len(first["results"]) == 10 and first["previous"] is None
    rows = walk(api, LIST, {"page_size": 10})
    assert [r["id"] for r in rows] == sorted(made, reverse=True)
    assert api.get(LIST, {"cursor": "garbage"}).status_code == 400


def test_list_and_detail_queries_do_not_grow(world, api):  # noqa: F811
    xihu = commission(world, "xihu_steward")
    as_user(api, world.users["xihu_steward"])

    def add(n, start):
        for i in range(start, start + n):
            report = monthly(xihu, date(2020, 1, 1) + timedelta(days=31 * i))
            for format in ("csv", "xlsx", "pdf"):
                ReportFile.objects.create(report=report, format=format)
        return report

    add(2, 0)
    api.get(LIST)  # the user's reach is read once per user object
    with CaptureQueriesContext(connection) as few:
        assert api.get(LIST).status_code == 200
    report = add(8, 2)
    with CaptureQueriesContext(connection) as many:
        assert len(api.get(LIST).json()["results"]) == 10
    assert len(many) == len(few) <= 3
    with CaptureQueriesContext(connection) as one:
        assert len(api.get(reverse("api:report-detail", args=[report.pk])).json()["files"]) == 3
    assert len(one) <= 3


# --- Exports --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", MATRIX)
def test_export_then_download_for_each_user(world, people, api, jobs, who):  # noqa: F811
    user = people[who]
    as_user(api, user)
    with jobs():
        response = api.post(LIST, {"format": "csv"}, format="json")
    if who == "anonymous" or PREFIX[who] is None:
        assert response.status_code == (401 if who == "anonymous" else 403)
        assert not ArchivedReport.objects.exists()
        return
    assert response.status_code == 201, response.content
    data = response.json()
    report = ArchivedReport.objects.get()
    assert data["report"] == report.pk and response["Location"].endswith(
        reverse("api:report-detail", args=[report.pk]))
    assert report.requested_by == user and report.kind == ReportKind.ON_DEMAND
    file = report.files.get()
    assert file.pk == data["id"] and file.status == FileStatus.DONE

    detail = api.get(reverse("api:report-detail", args=[report.pk])).json()
    (listed,) = detail["files"]
    assert listed["status"] == "done" and listed["download_url"]
    download = api.get(listed["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")
    assert "attachment" in download["Content-Disposition"]
    rows = read_csv(download)
    assert sorted(row[0] for row in rows[1:]) == codes_in(world, PREFIX[who])
    assert detail["snapshot"]["total"] == len(rows) - 1


def test_export_with_filters_keeps_them_and_writes_only_their_rows(world, api, jobs):  # noqa: F811
    user = world.users["province_steward"]
    as_user(api, user)
    with jobs():
        response = api.post(LIST, {"format": "csv", "region": "330100", "status": "registered",
                                   "sharing_type": "conditional"}, format="json")
    assert response.status_code == 201
    report = ArchivedReport.objects.get()
    assert report.scope_id == "330100"
    assert report.filters == {"region": "330100", "status": "registered",
                              "sharing_type": "conditional"}
    rows = read_csv(api.get(download_url(report.pk, response.json()["id"])))
    expected = codes_in(world, "3301", status="registered", sharing_type="conditional")
    assert 0 < len(expected) < len(codes_in(world, "3301"))
    assert sorted(row[0] for row in rows[1:]) == expected


def test_download_goes_to_the_audit_trail_with_a_token(world, api, jobs):  # noqa: F811
    user = world.users["xihu_steward"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    with jobs():
        file_id = api.post(LIST, {"format": "csv"}, format="json").json()["id"]
    file = ReportFile.objects.select_related("report").get(pk=file_id)
    assert not AuditEvent.objects.filter(action=AuditAction.REPORT_DOWNLOADED).exists()
    response = api.get(download_url(file.report_id, file.pk))
    assert response.status_code == 200
    b"".join(response.streaming_content)
    event = AuditEvent.objects.get(action=AuditAction.REPORT_DOWNLOADED)
    assert event.actor_id == user.pk and event.actor_name == user.username
    assert event.target_id == str(file.report_id) and event.region_id == "330106"
    assert event.after["format"] == "csv" and event.after["rows"] == file.rows_total
    # In the report's jurisdiction, where its auditors read it.
    assert AuditEvent.objects.restrict(world.users["auditor"]).filter(pk=event.pk).exists()
    assert not AuditEvent.objects.restrict(world.users["guangdong_steward"]).filter(
        pk=event.pk).exists()


def test_download_is_the_file_whatever_the_client_accepts(world, api, jobs):  # noqa: F811
    as_user(api, world.users["xihu_steward"])
    with jobs():
        data = api.post(LIST, {"format": "csv"}, format="json").json()
    url = download_url(data["report"], data["id"])
    response = api.get(url, HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    missing = api.get(download_url(data["report"], data["id"] + 1), HTTP_ACCEPT="text/csv")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert api.get(download_url(data["report"], "x")).status_code == 404
    assert api.get(download_url(data["report"] + 1, data["id"])).status_code == 404


def test_someone_elses_export_is_not_found(world, people, api, jobs):  # noqa: F811
    with jobs():
        as_user(api, world.users["xihu_steward"])
        data = api.post(LIST, {"format": "csv"}, format="json").json()
    report_id, file_id = data["report"], data["id"]
    # Even those whose jurisdiction covers it, and a colleague of the same commission.
    others = [world.users[key] for key in ("shangcheng_steward", "province_steward",
                                           "city_steward", "auditor", "guangdong_steward")]
    for user in [*others, people["county_staff"], people["national_staff"],
                 people["superuser"]]:
        as_user(api, user)
        assert api.get(reverse("api:report-detail", args=[report_id])).status_code == 404
        assert api.get(download_url(report_id, file_id)).status_code == 404
        response = api.post(reverse("api:report-files", args=[report_id]), {"format": "pdf"},
                            format="json")
        assert response.status_code == 404
        assert report_id not in [r["id"] for r in walk(api, LIST)]
        assert api.get(COMPARE, {"a": report_id, "b": report_id + 1}).status_code == 404
    assert ReportFile.objects.count() == 1
    assert not AuditEvent.objects.filter(action=AuditAction.REPORT_DOWNLOADED).exists()


def test_a_file_not_ready_is_not_downloaded(world, api, jobs):  # noqa: F811
    as_user(api, world.users["xihu_steward"])
    data = api.post(LIST, {"format": "csv"}, format="json").json()  # the job is not run
    assert data["status"] == "queued" and data["download_url"] is None
    assert api.get(download_url(data["report"], data["id"])).status_code == 404
    # Made, then being made again: its stored file is not served meanwhile.
    with jobs():
        made = api.post(LIST, {"format": "csv", "grade": 2}, format="json").json()
    url = download_url(made["report"], made["id"])
    assert api.get(url).status_code == 200
    ReportFile.objects.filter(pk=made["id"]).update(status=FileStatus.RUNNING)
    assert api.get(url).status_code == 404


def test_a_second_request_while_the_first_is_queued_joins_it(world, api):  # noqa: F811
    as_user(api, world.users["xihu_steward"])
    first = api.post(LIST, {"format": "csv", "grade": "3"}, format="json")
    again = api.post(LIST, {"format": "csv", "grade": 3}, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert ArchivedReport.objects.count() == ReportFile.objects.count() == 1
    other = api.post(LIST, {"format": "csv", "grade": "4"}, format="json")
    assert other.status_code == 201 and ArchivedReport.objects.count() == 2


def test_another_format_of_an_archived_report(world, api, jobs):  # noqa: F811
    as_user(api, world.users["xihu_steward"])
    with jobs():
        data = api.post(LIST, {"format": "csv"}, format="json").json()
    url = reverse("api:report-files", args=[data["report"]])
    with jobs():
        added = api.post(url, {"format": "xlsx"}, format="json")
    assert added.status_code == 201 and added.json()["format"] == "xlsx"
    assert ReportFile.objects.get(pk=added.json()["id"]).status == FileStatus.DONE
    assert api.post(url, {"format": "csv"}, format="json").status_code == 200
    refused = api.post(url, {"format": "docx"}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {"format": ["Choose CSV, Excel or PDF."]}
    assert ReportFile.objects.count() == 2
    # A failed file is queued again.
    ReportFile.objects.filter(pk=added.json()["id"]).update(status=FileStatus.FAILED)
    again = api.post(url, {"format": "xlsx"}, format="json")
    assert again.status_code == 201 and again.json()["status"] == "queued"


@pytest.mark.parametrize(("body", "fields"), [
    ({"format": "docx"}, {"format"}),
    ({}, {"format"}),
    ({"format": "csv", "grade": "9", "category": "x", "region": "33"},
     {"grade", "category", "region"}),
    ({"format": "csv", "status": ["registered"], "institution_type": {"a": 1}},
     {"status", "institution_type"}),
    ({"format": None, "sharing_type": "everyone"}, {"format", "sharing_type"}),
    (["csv"], {"non_field_errors"}),
    ("csv", {"non_field_errors"}),
])
def test_bad_export_requests_create_nothing(world, api, body, fields):  # noqa: F811
    as_user(api, world.users["province_steward"])
    response = api.post(LIST, body, format="json")
    assert response.status_code == 400, response.content
    assert set(response.json()) == fields
    assert all(isinstance(m, str) for ms in response.json().values() for m in ms)
    assert not ArchivedReport.objects.exists() and not ReportFile.objects.exists()


def test_a_malformed_body_is_refused(world, api):  # noqa: F811
    as_user(api, world.users["province_steward"])
    response = api.post(LIST, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert not ArchivedReport.objects.exists()


def test_export_of_a_region_outside_is_not_found(world, api):  # noqa: F811
    as_user(api, world.users["xihu_steward"])
    response = api.post(LIST, {"format": "csv", "region": "330102"}, format="json")
    assert response.status_code == 404
    assert not ArchivedReport.objects.exists()


def test_several_jurisdictions_must_choose_a_region(world, api):  # noqa: F811
    from ..factories import MembershipFactory

    user = world.users["xihu_steward"]
    MembershipFactory(user=user, institution=commission(world, "haishu_steward"),
                      role=Role.STEWARD)
    as_user(api, user)
    response = api.post(LIST, {"format": "csv"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"region": [
        "You report on several jurisdictions: choose one of them as the region."]}
    assert not ArchivedReport.objects.exists()
    assert api.post(LIST, {"format": "csv", "region": "330203"},
                    format="json").status_code == 201
    assert ArchivedReport.objects.get().scope_id == "330203"


def test_messages_in_chinese(world, api):  # noqa: F811
    as_user(api, world.users["xihu_steward"])
    response = api.post(LIST, {"format": "docx"}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.json() == {"format": ["请选择 CSV、Excel 或 PDF。"]}


# --- Compare --------------------------------------------------------------------------------


def test_compare_two_reports(world, api):  # noqa: F811
    xihu = commission(world, "xihu_steward")
    rows = [{"value": "3", "label": "3级", "count": 2, "drill": "3"}]
    older = monthly(xihu, date(2026, 9, 1), {"total": 5, "breakdowns": [
        {"key": "grade", "label": "Grade", "rows": rows}]})
    newer = monthly(xihu, date(2026, 10, 1), {"total": 8, "breakdowns": [
        {"key": "grade", "label": "Grade", "rows": [{**rows[0], "count": 4}]}]})
    province = monthly(commission(world, "province_steward"), date(2026, 10, 1))
    as_user(api, world.users["xihu_steward"])
    data = api.get(COMPARE, {"a": newer.pk, "b": older.pk}).json()
    assert (data["older"]["id"], data["newer"]["id"]) == (older.pk, newer.pk)
    total = data["key_figures"][0]
    assert (total["value"], total["older"], total["newer"], total["delta"]) == ("total", 5, 8, 3)
    grade = next(t for t in data["tables"] if t["key"] == "grade")
    assert [(r["value"], r["delta"]) for r in grade["rows"]] == [("3", 2)]
    # Outside the jurisdiction: as if missing; the same twice or not a number: 400.
    assert api.get(COMPARE, {"a": older.pk, "b": province.pk}).status_code == 404
    assert api.get(COMPARE, {"a": older.pk, "b": older.pk}).status_code == 400
    assert set(api.get(COMPARE, {"a": "x"}).json()) == {"a", "b"}
    as_user(api, world.users["registrar"])
    assert api.get(COMPARE, {"a": newer.pk, "b": older.pk}).status_code == 403


# --- Schema ---------------------------------------------------------------------------------


def test_schema_describes_the_download_as_a_file(api):
    schema = api.get(reverse("api:schema"), {"format": "json"}).json()
    operation = schema["paths"]["/api/reports/{id}/files/{file_id}/download/"]["get"]
    assert set(operation["responses"]["200"]["content"]) == {
        "text/csv", "application/pdf",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    assert operation["responses"]["200"]["content"]["text/csv"]["schema"] == {
        "type": "string", "format": "binary"}
    assert set(operation["responses"]["404"]["content"]) == {"application/json"}
    for path in ("/api/reports/", "/api/reports/{id}/", "/api/reports/figures/",
                 "/api/reports/compare/", "/api/reports/{id}/files/"):
        for method in schema["paths"][path].values():
            assert method["tags"] == ["reports"]


def test_real_responses_conform_to_the_schema(world, api, jobs):  # noqa: F811
    """The answers schemathesis' random ids rarely reach (a report, a file, the figures of a
    drill-down), checked against the schema the same way."""
    user = world.users["province_steward"]
    as_user(api, user)
    with jobs():
        made = api.post(LIST, {"format": "csv", "region": "330100"}, format="json").json()
    headers = {"Authorization": f"Token {Token.objects.create(user=user).key}",
               "Accept-Language": "en"}
    calls = [
        ("GET /api/reports/figures/", {}, {"region": "330100", "grade": 3}, 200),
        ("GET /api/reports/", {}, {}, 200),
        ("GET /api/reports/{id}/", {"id": made["report"]}, {}, 200),
        ("GET /api/reports/{id}/files/{file_id}/download/",
         {"id": made["report"], "file_id": made["id"]}, {}, 200),
        ("POST /api/reports/{id}/files/", {"id": made["report"]}, {}, 200),
    ]
    # Calls into the WSGI application must keep the test's connection (see test_schemathesis;
    # the test client puts the handlers back after each of its requests, so only now).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        for name, path, query, expected in calls:
            kwargs = {"body": {"format": "csv"}} if name.startswith("POST") else {}
            case = OPERATIONS[name].Case(path_parameters=path, query=query, **kwargs)
            response = case.call(headers=headers)
            assert response.status_code == expected, (name, response.text)
            case.validate_response(response, checks=[
                not_a_server_error, status_code_conformance, content_type_conformance,
                response_schema_conformance,
            ])
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
