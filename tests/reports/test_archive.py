"""The report archive: exports asked for on the page and produced by the job, their
progress and download, who may reach them, the monthly reports, comparing two, expiry."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.choices import Role
from inventory.choices import CURRENT_STATUSES
from reports import archive
from reports.choices import FileStatus, ReportKind
from reports.figures import build_report
from reports.models import ArchivedReport, ReportFile
from reports.tasks import make_monthly_reports, tidy_archive

from ..factories import DataAssetFactory, MembershipFactory, region
from .conftest import person
from .test_report import in_scope

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def archive_dir(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "reports": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "reports")},
    }}
    return tmp_path / "reports"


@pytest.fixture
def jobs(django_capture_on_commit_callbacks):
    """``with jobs():`` runs the jobs sent inside it here, as their transaction commits
    (the embedded default's mode)."""
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield lambda: django_capture_on_commit_callbacks(execute=True)
    app.conf.task_always_eager = previous


def export(client, user, format: str, **filters):
    client.force_login(user)
    return client.post(reverse("reports:export"), {"format": format, **filters})


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content)
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_csv_export_is_archived_produced_and_downloaded(client, world, jobs):
    user = world.users["xihu_steward"]
    with jobs():
        response = export(client, user, "csv")
    report = ArchivedReport.objects.get()
    assert response.status_code == 302 and response.url == report.get_absolute_url()
    assert report.kind == ReportKind.ON_DEMAND and report.scope_id == "330106"
    assert report.requested_by == user
    file = report.files.get()
    assert file.status == FileStatus.DONE and file.size > 0
    in_county = [a for a in world.assets if in_scope(world, "xihu_steward", a)]
    assert file.rows_total == file.rows_done == len(in_county)
    assert report.snapshot["total"] == len(in_county)

    page = client.get(report.get_absolute_url())
    assert reverse("reports:download", args=[file.pk]) in page.content.decode()
    download = client.get(reverse("reports:download", args=[file.pk]))
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")
    assert "attachment" in download["Content-Disposition"]
    rows = read_csv(download)
    assert sorted(row[0] for row in rows[1:]) == sorted(a.code for a in in_county)

    # The download is in the audit trail, where the jurisdiction's auditors read it.
    from audit.models import AuditAction, AuditEvent

    event = AuditEvent.objects.get(action=AuditAction.REPORT_DOWNLOADED)
    assert event.actor_id == user.pk and event.target_id == str(report.pk)
    assert event.after["format"] == "csv" and event.after["rows"] == len(in_county)
    assert AuditEvent.objects.restrict(world.users["auditor"]).filter(pk=event.pk).exists()
    assert not AuditEvent.objects.restrict(world.users["guangdong_steward"]).filter(
        pk=event.pk).exists()


def test_export_keeps_the_filters_and_the_drill_down(client, world, jobs):
    user = world.users["province_steward"]
    with jobs():
        export(client, user, "csv", region="330100", status="registered")
    report = ArchivedReport.objects.get()
    assert report.scope_id == "330100"
    assert report.filters == {"region": "330100", "status": "registered"}
    rows = read_csv(client.get(reverse("reports:download", args=[report.files.get().pk])))
    assert sorted(row[0] for row in rows[1:]) == sorted(
        a.code for a in world.assets
        if in_scope(world, "city_steward", a) and a.status == "registered"
    )


def test_xlsx_export_through_the_job(client, world, jobs):
    from openpyxl import load_workbook

    user = world.users["city_steward"]
    with jobs():
        export(client, user, "xlsx")
    file = ReportFile.objects.get()
    assert file.status == FileStatus.DONE
    in_city = {a.pk for a in world.assets if in_scope(world, "city_steward", a)}
    current = [f for f in world.findings if f.asset_id in in_city and f.status in CURRENT_STATUSES]
    assert file.rows_total == len(in_city) + len(current)
    body = b"".join(client.get(reverse("reports:download", args=[file.pk])).streaming_content)
    book = load_workbook(io.BytesIO(body), read_only=True)
    assert len(list(book["数据资产"].iter_rows())) == len(in_city) + 1


def test_a_second_request_while_the_first_is_queued_joins_it(client, world):
    user = world.users["xihu_steward"]
    export(client, user, "csv")  # jobs are not run: the file stays queued
    export(client, user, "csv")
    assert ArchivedReport.objects.count() == 1
    assert ReportFile.objects.get().status == FileStatus.QUEUED
    export(client, user, "xlsx")
    assert ReportFile.objects.count() == 2


def test_progress_of_a_queued_file(client, world):
    user = world.users["xihu_steward"]
    export(client, user, "csv")
    file = ReportFile.objects.get()
    ReportFile.objects.filter(pk=file.pk).update(
        status=FileStatus.RUNNING, rows_total=200, rows_done=50)
    data = client.get(reverse("reports:file_progress", args=[file.pk])).json()
    assert data["active"] is True and data["percent"] == 25 and data["rows_done"] == 50
    page = client.get(file.report.get_absolute_url()).content.decode()
    assert reverse("reports:file_progress", args=[file.pk]) in page
    assert client.get(reverse("reports:download", args=[file.pk])).status_code == 404


def test_a_failed_file_says_why_and_can_be_made_again(client, world, jobs, monkeypatch):
    from reports import exports

    def broken(source, out, progress):
        raise RuntimeError("disk full")

    monkeypatch.setitem(exports.WRITERS, "csv", broken)
    monkeypatch.setattr(archive, "WRITERS", exports.WRITERS)
    user = world.users["xihu_steward"]
    with jobs():
        export(client, user, "csv")
    file = ReportFile.objects.get()
    assert file.status == FileStatus.FAILED and "disk full" in file.error
    assert "disk full" in client.get(file.report.get_absolute_url()).content.decode()

    monkeypatch.undo()
    with jobs():
        client.post(reverse("reports:add_file", args=[file.report_id]), {"format": "csv"})
    file.refresh_from_db()
    assert file.status == FileStatus.DONE and file.error == ""


def test_users_without_report_reach_are_refused(client, world):
    registrar = world.users["registrar"]
    client.force_login(registrar)
    assert client.post(reverse("reports:export"), {"format": "csv"}).status_code == 403
    assert client.get(reverse("reports:archive")).status_code == 403
    assert not ArchivedReport.objects.exists()


def test_a_region_outside_the_jurisdiction_is_not_exported(client, world):
    response = export(client, world.users["xihu_steward"], "csv", region="330102")
    assert response.status_code == 404
    assert not ArchivedReport.objects.exists()


def test_bad_format_changes_nothing(client, world):
    response = export(client, world.users["xihu_steward"], "docx")
    assert response.status_code == 302
    assert not ArchivedReport.objects.exists()


def test_several_jurisdictions_must_choose_one(client, world):
    user = world.users["xihu_steward"]
    MembershipFactory(user=user, institution=world.users["haishu_steward"].memberships.get()
                      .institution, role=Role.STEWARD)
    response = export(client, user, "csv")
    assert response.status_code == 302
    assert not ArchivedReport.objects.exists()
    export(client, user, "csv", region="330203")
    assert ArchivedReport.objects.get().scope_id == "330203"


def test_others_cannot_reach_a_requested_export(client, world, jobs):
    with jobs():
        export(client, world.users["xihu_steward"], "csv")
    file = ReportFile.objects.get()
    for key in ("shangcheng_steward", "province_steward", "guangdong_steward"):
        client.force_login(world.users[key])
        assert client.get(file.report.get_absolute_url()).status_code == 404
        assert client.get(reverse("reports:download", args=[file.pk])).status_code == 404
        assert client.get(reverse("reports:file_progress", args=[file.pk])).status_code == 404


def test_monthly_reports_one_per_commission_scoped_and_made_once(client, world, jobs):
    with jobs():
        made = make_monthly_reports("2026-10-01")
    commissions = archive.commissions()
    assert made == commissions.count()
    monthly = ArchivedReport.objects.filter(kind=ReportKind.MONTHLY)
    assert monthly.count() == made
    assert set(monthly.values_list("period", flat=True)) == {date(2026, 10, 1)}
    # The figures are the commission's own report: what its staff see.
    xihu = monthly.get(scope_id="330106")
    staff = build_report(world.users["xihu_steward"], {})
    assert xihu.snapshot["total"] == staff.total
    assert xihu.snapshot["findings_total"] == staff.findings_total
    assert {f.format: f.status for f in xihu.files.all()} == {
        "pdf": FileStatus.DONE, "xlsx": FileStatus.DONE}
    from pypdf import PdfReader

    pdf = xihu.files.get(format="pdf")
    with archive.archive_storage().open(pdf.path, "rb") as handle:
        first_page = PdfReader(handle).pages[0].extract_text()
    assert "月度报告 · 西湖区 · 2026-10" in first_page
    # Made again: nothing new.
    with jobs():
        make_monthly_reports("2026-10-01")
    assert ArchivedReport.objects.filter(kind=ReportKind.MONTHLY).count() == made
    assert ReportFile.objects.count() == 2 * made

    # Who sees which: the province all of 浙江's, a county its own only.
    client.force_login(world.users["province_steward"])
    listed = client.get(reverse("reports:archive")).context["reports"]
    assert {r.scope_id for r in listed} == {"330000", "330100", "330106", "330102", "330203"}
    client.force_login(world.users["xihu_steward"])
    listed = client.get(reverse("reports:archive")).context["reports"]
    assert {r.scope_id for r in listed} == {"330106"}
    province = monthly.get(scope_id="330000")
    assert client.get(province.get_absolute_url()).status_code == 404


def test_monthly_beat_entry_reports_on_the_month_just_ended():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["monthly-reports"]
    assert entry["task"] == "reports.tasks.make_monthly_reports"
    assert archive.previous_month(date(2026, 1, 1)) == date(2025, 12, 1)
    assert archive.previous_month(date(2026, 3, 31)) == date(2026, 2, 1)


def test_compare_two_monthly_reports(client, world, jobs):
    with jobs():
        make_monthly_reports("2026-09-01")
    DataAssetFactory(holder=world.institutions["xihu_a"], grade=5, status="registered")
    DataAssetFactory(holder=world.institutions["xihu_b"], grade=5, status="registered")
    with jobs():
        make_monthly_reports("2026-10-01")
    older, newer = ArchivedReport.objects.filter(scope_id="330106").order_by("period")
    client.force_login(world.users["xihu_steward"])
    page = client.get(older.get_absolute_url()).content.decode()
    assert f'value="{newer.pk}"' in page  # offered for comparison
    response = client.get(reverse("reports:compare"), {"a": newer.pk, "b": older.pk})
    comparison = response.context["comparison"]
    total = comparison.key_figures[0]
    assert (total.older, total.newer, total.delta) == (
        older.snapshot["total"], older.snapshot["total"] + 2, 2)
    grade = next(t for t in comparison.tables if t.key == "grade")
    grade_5 = next(row for row in grade.rows if row.value == "5")
    assert grade_5.delta == 2
    # A report outside the jurisdiction cannot be compared with.
    province = ArchivedReport.objects.get(scope_id="330000", period=date(2026, 10, 1))
    assert client.get(reverse("reports:compare"),
                      {"a": older.pk, "b": province.pk}).status_code == 404


def test_expired_reports_are_deleted_with_their_files(client, world, jobs, archive_dir):
    with jobs():
        export(client, world.users["xihu_steward"], "csv")
    kept = ArchivedReport.objects.get()
    with jobs():
        export(client, world.users["city_steward"], "csv")
    old = ArchivedReport.objects.exclude(pk=kept.pk).get()
    path = archive_dir / old.files.get().path
    assert path.exists()
    ArchivedReport.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(1))
    assert tidy_archive() == {"purged": 1, "requeued": 0}
    assert not path.exists()
    assert list(ArchivedReport.objects.all()) == [kept]
    assert (archive_dir / kept.files.get().path).exists()


def test_a_lost_job_is_queued_again(world, jobs, settings):
    report = ArchivedReport.objects.create(
        kind=ReportKind.ON_DEMAND, requested_by=world.users["xihu_steward"],
        scope=region("330106"), snapshot={"total": 0},
        expires_at=timezone.now() + timedelta(days=1))
    file = ReportFile.objects.create(report=report, format="csv")
    long_ago = timezone.now() - timedelta(seconds=settings.REPORT_FILE_TIME_LIMIT + 3600)
    ReportFile.objects.filter(pk=file.pk).update(created_at=long_ago)
    assert tidy_archive()["requeued"] == 1
    file.refresh_from_db()
    assert file.status == FileStatus.DONE


def test_county_staff_member_sees_archive_link(client, world):
    user = person("county-staff", world.users["xihu_steward"].memberships.get().institution,
                  Role.COMMISSION_STAFF)
    client.force_login(user)
    page = client.get(reverse("reports:report")).content.decode()
    assert reverse("reports:export") in page and reverse("reports:archive") in page


def test_the_audit_page_lists_a_download(client, world, jobs):
    user = world.users["xihu_steward"]
    with jobs():
        export(client, user, "csv")
    file = ReportFile.objects.get()
    client.get(reverse("reports:download", args=[file.pk]))
    client.force_login(world.users["auditor"])
    page = client.get("/audit/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    assert "下载报告文件" in page.content.decode()
