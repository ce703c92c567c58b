"""Starting runs, answering and closing findings: the operations the pages and jobs call."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Region
from accounts.scoping import Action, reach

from .choices import CURRENT_STATUSES, FindingStatus, RunKind
from .models import Finding, Run, Schedule


def covers(jurisdiction: tuple[str | None, str | None], region: Region | None) -> bool:
    """Whether a (level, code) jurisdiction contains the region (None: the whole country)."""
    level, code = jurisdiction
    if level is None:
        return True
    if region is None:
        return False
    return code in (region.province_id, region.city_id, region.code)


def runnable_scopes(user) -> list[Region | None]:
    """The jurisdictions the user may start runs for (None: the whole country)."""
    found = reach(user, Action.RUN_CHECKS)
    if found.everything:
        return [None]
    codes = sorted(code for _level, code in found.jurisdictions if code is not None)
    scopes: list[Region | None] = [None] if (None, None) in found.jurisdictions else []
    return scopes + list(Region.objects.filter(code__in=codes).order_by("code"))


def may_run(user, scope: Region | None) -> bool:
    found = reach(user, Action.RUN_CHECKS)
    return found.everything or any(covers(j, scope) for j in found.jurisdictions)


def start_run(kind: str, scope: Region | None, *, user=None, schedule=None) -> tuple[Run, bool]:
    """Start a run of ``kind`` over ``scope`` after the caller's transaction commits; if one
    is already under way for the same scope, return it instead. Returns (run, started)."""
    if kind not in RunKind.values:
        raise ValidationError(_("Unknown kind of run."))
    if user is not None and not may_run(user, scope):
        raise PermissionDenied(_("This jurisdiction is not yours to check."))
    from .tasks import plan_run

    try:
        with transaction.atomic():
            run = Run.objects.create(kind=kind, scope=scope, started_by=user, schedule=schedule)
    except IntegrityError:
        active = Run.objects.active().filter(kind=kind, scope=scope).first()
        if active is None:  # it finished in the meantime: try once more
            return start_run(kind, scope, user=user, schedule=schedule)
        if is_stalled(active):  # its worker died and nobody re-delivered: pick it up again
            plan_run.delay_on_commit(active.pk)
        return active, False
    plan_run.delay_on_commit(run.pk)
    return run, True


def is_stalled(run: Run) -> bool:
    """An active run with no progress for longer than a chunk may take (in the embedded
    mode, where a run is worked inside the request that starts it, any active run)."""
    from config.celery import app

    if app.conf.task_always_eager:
        return True
    last = run.chunks.aggregate(last=Max("finished_at"))["last"] or run.started_at
    last = last or run.created_at
    limit = timedelta(seconds=settings.INVENTORY_CHUNK_SOFT_TIME_LIMIT + 60)
    return timezone.now() - last > limit


def start_scheduled(schedule_id: int) -> Run | None:
    schedule = Schedule.objects.select_related("scope").filter(pk=schedule_id).first()
    if schedule is None:
        return None
    run, _started = start_run(schedule.kind, schedule.scope, schedule=schedule)
    return run


def answer(finding: Finding, text: str, *, user) -> Finding:
    """The holder's answer to a finding (what was done, or why it is as it is)."""
    text = text.strip()
    if not text:
        raise ValidationError({"answer": _("Write an answer.")})
    with transaction.atomic():
        locked = _lock(finding, user, Action.ANSWER)
        if locked.status not in (FindingStatus.OPEN, FindingStatus.ANSWERED):
            raise ValidationError(_("This finding is no longer open."))
        locked.answer, locked.answered_by, locked.answered_at = text, user, timezone.now()
        locked.status = FindingStatus.ANSWERED
        locked.save(update_fields=["answer", "answered_by", "answered_at", "status"])
    return locked


def close(finding: Finding, note: str, *, user) -> Finding:
    """A steward closes a finding (accepted, or dealt with outside the ledger)."""
    note = note.strip()
    if not note:
        raise ValidationError({"note": _("Say why the finding is closed.")})
    with transaction.atomic():
        locked = _lock(finding, user, Action.RUN_CHECKS)
        if locked.status not in CURRENT_STATUSES or locked.status == FindingStatus.CLOSED:
            raise ValidationError(_("This finding is no longer open."))
        locked.closing_note, locked.closed_by, locked.closed_at = note, user, timezone.now()
        locked.status = FindingStatus.CLOSED
        locked.save(update_fields=["closing_note", "closed_by", "closed_at", "status"])
    return locked


def reopen(finding: Finding, *, user) -> Finding:
    with transaction.atomic():
        locked = _lock(finding, user, Action.RUN_CHECKS)
        if locked.status != FindingStatus.CLOSED:
            raise ValidationError(_("Only a closed finding can be reopened."))
        locked.status = FindingStatus.ANSWERED if locked.answer else FindingStatus.OPEN
        locked.save(update_fields=["status"])
    return locked


def _lock(finding: Finding, user, action: Action) -> Finding:
    locked = (
        Finding.objects.restrict(user, action).select_for_update().filter(pk=finding.pk).first()
    )
    if locked is None:
        raise PermissionDenied(_("This finding is not yours to handle."))
    return locked
