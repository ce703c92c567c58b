"""Runs and findings: start a run, watch it work, read what it found, answer and close."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.scoping import Action, reach
from catalog.forms import add_validation_error

from . import services
from .choices import FindingRule
from .evidence import describe
from .filtersets import FindingFilterSet
from .forms import AnswerForm, CloseForm, StartRunForm
from .models import Finding, Run
from .rules import severity_of


def _runs(request: HttpRequest):
    return Run.objects.restrict(request.user)


@login_required
def run_list(request: HttpRequest) -> HttpResponse:
    if reach(request.user, Action.VIEW_FINDINGS).empty:
        raise PermissionDenied
    runs = _runs(request).select_related("scope", "started_by", "schedule")
    before = request.GET.get("before", "")
    if before.isdigit():
        runs = runs.filter(pk__lt=int(before))
    size = settings.CATALOG_PAGE_SIZE
    page = list(runs.order_by("-id")[: size + 1])
    scopes = services.runnable_scopes(request.user)
    return render(request, "inventory/run_list.html", {
        "runs": page[:size],
        "next_before": page[size - 1].pk if len(page) > size else None,
        "form": StartRunForm(scopes=scopes) if scopes else None,
    })


@login_required
@require_POST
def run_start(request: HttpRequest) -> HttpResponse:
    scopes = services.runnable_scopes(request.user)
    if not scopes:
        raise PermissionDenied
    form = StartRunForm(request.POST, scopes=scopes)
    if not form.is_valid():
        messages.error(request, _("Choose a kind of run and one of your jurisdictions."))
        return redirect("inventory:run_list")
    run, started = services.start_run(
        form.cleaned_data["kind"], form.cleaned_data["scope"], user=request.user
    )
    if not started:
        messages.info(request, _("A run of this kind is already under way for this "
                                 "jurisdiction: here it is."))
    return redirect(run)


@login_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(_runs(request).select_related("scope", "started_by"), pk=pk)
    rows = []
    for code, numbers in sorted(
        run.counts.items(), key=lambda item: (-severity_of(item[0]), item[0])
    ):
        rows.append({"code": code, "label": FindingRule(code).label,
                     "severity": severity_of(code), **numbers})
    return render(request, "inventory/run_detail.html", {
        "run": run, "rows": rows,
        "failed_chunks": run.chunks.filter(state="failed").order_by("seq")[:5]
        if run.chunks_failed else [],
    })


@login_required
def run_progress(request: HttpRequest, pk: int) -> JsonResponse:
    run = get_object_or_404(_runs(request), pk=pk)
    return JsonResponse({
        "status": run.status, "status_label": run.get_status_display(),
        "active": run.is_active, "percent": run.percent,
        "assets_done": run.assets_done, "assets_total": run.assets_total,
        "chunks_done": run.chunks_done, "chunks_total": run.chunks_total,
        "chunks_failed": run.chunks_failed,
    })


@login_required
def finding_list(request: HttpRequest) -> HttpResponse:
    if reach(request.user, Action.VIEW_FINDINGS).empty:
        raise PermissionDenied
    filterset = FindingFilterSet(
        request.GET, queryset=Finding.objects.restrict(request.user), request=request
    )
    # A value the filters cannot use is left out (cleaned_data keeps the others), never an
    # error page; but a run out of the user's reach is missing, as on its own page.
    findings = filterset.qs
    if filterset.hidden_run:
        raise Http404
    before = request.GET.get("before", "")
    if before.isdigit():
        findings = findings.filter(pk__lt=int(before))
    size = settings.CATALOG_PAGE_SIZE
    page = list(
        findings.select_related("asset", "institution").order_by("-id")[: size + 1]
    )
    query = request.GET.copy()
    query.pop("before", None)
    return render(request, "inventory/finding_list.html", {
        "form": filterset.form, "findings": [(f, describe(f)) for f in page[:size]],
        "next_before": page[size - 1].pk if len(page) > size else None,
        "query": query.urlencode(), "run": filterset.form.cleaned_data.get("run"),
    })


def _finding(request: HttpRequest, pk: int) -> Finding:
    return get_object_or_404(
        Finding.objects.restrict(request.user).select_related(
            "asset", "institution", "first_run", "last_run", "answered_by", "closed_by"),
        pk=pk,
    )


@login_required
def finding_detail(request: HttpRequest, pk: int, *, answer_form=None, close_form=None):
    finding = _finding(request, pk)
    may_answer = Finding.objects.restrict(request.user, Action.ANSWER).filter(pk=pk).exists()
    may_close = Finding.objects.restrict(request.user, Action.RUN_CHECKS).filter(pk=pk).exists()
    return render(request, "inventory/finding_detail.html", {
        "finding": finding, "evidence": describe(finding),
        "answer_form": (answer_form or AnswerForm(initial={"answer": finding.answer}))
        if may_answer and finding.status in ("open", "answered") else None,
        "close_form": (close_form or CloseForm())
        if may_close and finding.status in ("open", "answered") else None,
        "may_reopen": may_close and finding.status == "closed",
        "same_asset": [
            (FindingRule(row["rule"]).label, row["n"])
            for row in Finding.objects.restrict(request.user).current()
            .filter(asset=finding.asset_id).exclude(pk=pk).values("rule")
            .annotate(n=Count("id")).order_by("rule")
        ],
    }, status=400 if (answer_form or close_form) else 200)


def _act_on_finding(request: HttpRequest, pk: int, form_class, field: str, act, done: str,
                    form_name: str) -> HttpResponse:
    """Validate the form, call the service; on success say so and go back to the finding,
    otherwise show the finding again with the form's errors (and nothing written)."""
    finding = _finding(request, pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            act(finding, form.cleaned_data[field], user=request.user)
        except ValidationError as error:
            add_validation_error(form, error)
        else:
            messages.success(request, done)
            return redirect(finding)
    return finding_detail(request, pk, **{form_name: form})


@login_required
@require_POST
def finding_answer(request: HttpRequest, pk: int) -> HttpResponse:
    return _act_on_finding(request, pk, AnswerForm, "answer", services.answer,
                           _("Your answer is recorded; a steward will review it."), "answer_form")


@login_required
@require_POST
def finding_close(request: HttpRequest, pk: int) -> HttpResponse:
    return _act_on_finding(request, pk, CloseForm, "note", services.close,
                           _("The finding is closed."), "close_form")


@login_required
@require_POST
def finding_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    finding = _finding(request, pk)
    try:
        services.reopen(finding, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The finding is open again."))
    return redirect(finding)
