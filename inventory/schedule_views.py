"""The schedules page: the recurring runs of a steward's jurisdictions, added, changed,
switched off and removed through inventory.schedules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import F, OuterRef, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.scoping import Action, reach
from catalog.forms import add_validation_error

from . import schedules as service
from .models import Run, Schedule
from .schedule_forms import ScheduleForm
from .services import runnable_scopes

PAGE_SIZE = 50


@dataclass
class ScheduleRow:
    schedule: Schedule
    timing: dict[str, str] | None
    words: str | None
    enabled: bool
    next_run: datetime | None
    last_run: Run | None

    @property
    def expression(self) -> str:
        return " ".join(self.timing[name] for name in service.CRON_FIELD_NAMES) if self.timing \
            else ""


def _require_checks(request: HttpRequest) -> None:
    """Only those who may run checks somewhere keep schedules: the others get 403."""
    if reach(request.user, Action.RUN_CHECKS).empty:
        raise PermissionDenied


def _schedules(request: HttpRequest):
    return Schedule.objects.restrict(request.user, Action.RUN_CHECKS).select_related(
        "scope__province", "scope__city", "periodic_task__crontab",
    )


@login_required
@require_GET
def schedule_list(request: HttpRequest) -> HttpResponse:
    _require_checks(request)
    last_run = Run.objects.filter(schedule=OuterRef("pk")).order_by("-created_at", "-id")
    schedules = _schedules(request).annotate(
        last_run_id=Subquery(last_run.values("pk")[:1])
    ).order_by(F("scope").asc(nulls_first=True), "kind", "pk")
    page = Paginator(schedules, PAGE_SIZE).get_page(request.GET.get("page"))
    runs = Run.objects.in_bulk([s.last_run_id for s in page if s.last_run_id])
    now = timezone.now()
    rows = []
    for schedule in page:
        timing = service.timing_of(schedule)
        task = schedule.periodic_task
        enabled = bool(task and task.enabled and timing)
        rows.append(ScheduleRow(
            schedule=schedule, timing=timing,
            words=service.describe(timing) if timing else None,
            enabled=enabled,
            next_run=service.next_run_at(task.crontab, now) if enabled else None,
            last_run=runs.get(schedule.last_run_id),
        ))
    return render(request, "inventory/schedules.html", {
        "rows": rows, "page": page,
        "may_add": bool(runnable_scopes(request.user)), "time_zone": settings.TIME_ZONE,
    })


@login_required
@require_http_methods(["GET", "POST"])
def schedule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    _require_checks(request)
    schedule = get_object_or_404(_schedules(request), pk=pk) if pk is not None else None
    if request.method == "POST" and schedule is not None:
        action = request.POST.get("action", "save")
        if action == "delete":
            service.delete_schedule(request.user, schedule)
            messages.success(request, _("The schedule is removed; its past runs are kept."))
            return redirect("inventory:schedule_list")
        if action in ("enable", "disable"):
            service.set_schedule_enabled(request.user, schedule, action == "enable")
            messages.success(request, _("The schedule is on.") if action == "enable"
                             else _("The schedule is off: it starts no run until it is "
                                    "switched on again."))
            return redirect("inventory:schedule_list")

    scopes = runnable_scopes(request.user) if schedule is None else ()
    if request.method == "POST":
        form = ScheduleForm(request.POST, scopes=scopes, schedule=schedule)
        if form.is_valid():
            kind = schedule.kind if schedule else form.cleaned_data["kind"]
            scope = schedule.scope if schedule else form.cleaned_data["scope"]
            try:
                service.save_schedule(
                    request.user, kind, scope, **form.timing,
                    enabled=form.cleaned_data["enabled"], new=schedule is None,
                )
            except ValidationError as error:
                add_validation_error(form, error)
            else:
                messages.success(request, _("The schedule is saved."))
                return redirect("inventory:schedule_list")
    elif schedule is not None:
        timing = service.timing_of(schedule) or service.DEFAULT_TIMING[schedule.kind]
        task = schedule.periodic_task
        form = ScheduleForm(initial={**timing, "enabled": bool(task and task.enabled)},
                            schedule=schedule)
    else:
        form = ScheduleForm(initial={"kind": request.GET.get("kind")}
                            if request.GET.get("kind") in service.DEFAULT_TIMING else {},
                            scopes=scopes)
    return render(request, "inventory/schedule_form.html", {
        "form": form, "schedule": schedule, "time_zone": settings.TIME_ZONE,
    }, status=400 if form.is_bound else 200)
