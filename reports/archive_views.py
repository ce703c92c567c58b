"""The report archive's pages: ask for a file, follow it, download it; the list of archived
reports, one report, and two compared. Every report and file is reached through
``ArchivedReport.objects.restrict`` (the scoping rule): a report outside it is not found."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.scoping import Action, reach

from . import archive
from .cache import report_figures
from .choices import CONTENT_TYPES, ExportFormat, FileStatus, ReportKind
from .compare import compare_snapshots
from .forms import FILTER_NAMES
from .models import ArchivedReport, ReportFile
from .snapshot import take_snapshot
from .views import report_filters

ARCHIVE_PAGE = 50
COMPARE_CHOICES = 36


def _reports(request: HttpRequest):
    if reach(request.user, Action.REPORT).empty:
        raise PermissionDenied
    return ArchivedReport.objects.restrict(request.user)


@login_required
@require_POST
def export(request: HttpRequest) -> HttpResponse:
    """Archive the report with the posted filters and queue its file in the posted format."""
    form, filters = report_filters(request, request.POST)
    kept = {name: request.POST[name] for name in FILTER_NAMES if name in filters}
    back = redirect(f"{_report_url()}?{urlencode(kept)}" if kept else _report_url())
    format = request.POST.get("format", "")
    if format not in ExportFormat.values:
        messages.error(request, _("Choose CSV, Excel or PDF."))
        return back
    whole, scope = archive.export_scope(request.user, filters)
    if not whole:
        messages.error(request, _("You report on several jurisdictions: open one of them "
                                  "(click its name) and export from there."))
        return back
    snapshot = take_snapshot(
        report_figures(request.user, filters), scope=scope,
        filter_labels=form.filter_labels(filters),
    )
    file = archive.request_export(request.user, filters, format, snapshot)
    return redirect(file.report)


def _report_url() -> str:
    return reverse("reports:report")


@login_required
def archive_list(request: HttpRequest) -> HttpResponse:
    reports = _reports(request).select_related("scope", "commission").prefetch_related("files")
    kind = request.GET.get("kind", "")
    if kind in ReportKind.values:
        reports = reports.filter(kind=kind)
    before = request.GET.get("before", "")
    if before.isdigit():
        reports = reports.filter(pk__lt=int(before))
    page = list(reports.order_by("-id")[:ARCHIVE_PAGE + 1])
    more = len(page) > ARCHIVE_PAGE
    page = page[:ARCHIVE_PAGE]
    return render(request, "reports/archive.html", {
        "reports": page, "kind": kind, "kinds": ReportKind.choices,
        "next_query": urlencode({**({"kind": kind} if kind else {}), "before": page[-1].pk})
        if more else "",
    })


@login_required
def archived(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_object_or_404(
        _reports(request).select_related("scope", "commission", "requested_by"), pk=pk
    )
    files = {file.format: file for file in report.files.all()}
    others = (
        _reports(request).filter(scope=report.scope_id).exclude(pk=report.pk)
        .select_related("scope").order_by("-id")[:COMPARE_CHOICES]
    )
    active = next((file for file in files.values() if file.is_active), None)
    return render(request, "reports/archived.html", {
        "archived": report,
        "snap": report.snapshot,
        "files": [(value, label, files.get(value)) for value, label in ExportFormat.choices],
        "active_file": active,
        "others": others,
    })


@login_required
@require_POST
def add_file(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_object_or_404(_reports(request), pk=pk)
    format = request.POST.get("format", "")
    if format not in ExportFormat.values:
        messages.error(request, _("Choose CSV, Excel or PDF."))
    else:
        archive.add_file(report, format)
    return redirect(report)


def _file(request: HttpRequest, pk: int) -> ReportFile:
    return get_object_or_404(
        ReportFile.objects.select_related("report", "report__scope"),
        pk=pk, report__in=_reports(request),
    )


@login_required
def file_progress(request: HttpRequest, pk: int) -> JsonResponse:
    file = _file(request, pk)
    return JsonResponse({
        "status": file.status, "status_label": file.get_status_display(),
        "active": file.is_active, "percent": file.percent,
        "rows_done": file.rows_done, "rows_total": file.rows_total,
    })


@login_required
def download(request: HttpRequest, pk: int) -> FileResponse:
    file = _file(request, pk)
    if file.status != FileStatus.DONE:
        raise Http404
    try:
        handle = archive.archive_storage().open(file.path, "rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    archive.record_download(file)
    return FileResponse(
        handle, as_attachment=True, filename=file.filename,
        content_type=CONTENT_TYPES[file.format],
    )


@login_required
def compare(request: HttpRequest) -> HttpResponse:
    reports = _reports(request).select_related("scope")
    ids = [request.GET.get(name, "") for name in ("a", "b")]
    if not all(value.isdigit() for value in ids):
        raise Http404
    found = {report.pk: report for report in reports.filter(pk__in=[int(v) for v in ids])}
    if len(found) != len(set(ids)) or ids[0] == ids[1]:
        raise Http404
    older, newer = sorted(found.values(), key=lambda r: (r.created_at, r.pk))
    return render(request, "reports/compare.html", {
        "older": older, "newer": newer,
        "comparison": compare_snapshots(older.snapshot, newer.snapshot),
    })
