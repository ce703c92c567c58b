"""Recurring runs: a :class:`Schedule` kept in step with its django-celery-beat task.

A schedule is a kind of run over a jurisdiction; when it comes due is a crontab (minute,
hour, day of month, month, day of week, in ``settings.TIME_ZONE``) held by its own
``CrontabSchedule``, and whether it is on is the ``enabled`` flag of its ``PeriodicTask``,
which calls ``inventory.tasks.start_scheduled_run(schedule.pk)``. Beat reads only the
periodic tasks; the pages read the schedule through them, so the three rows are written
together, in one transaction, here and nowhere else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from celery import schedules as celery_schedules
from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_celery_beat import validators
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from accounts.models import Region
from accounts.scoping import Action

from .choices import RunKind
from .models import Schedule
from .services import may_run

TASK = "inventory.tasks.start_scheduled_run"


@dataclass(frozen=True)
class CronField:
    name: str
    label: str
    low: int
    high: int
    validator: object


# The five crontab fields, in crontab order, with the range each accepts (day of week as
# Celery counts it: 0 is Sunday, 1 Monday … 6 Saturday).
CRON_FIELDS = (
    CronField("minute", gettext_lazy("Minute"), 0, 59, validators.minute_validator),
    CronField("hour", gettext_lazy("Hour"), 0, 23, validators.hour_validator),
    CronField("day_of_month", gettext_lazy("Day of month"), 1, 31,
              validators.day_of_month_validator),
    CronField("month_of_year", gettext_lazy("Month"), 1, 12, validators.month_of_year_validator),
    CronField("day_of_week", gettext_lazy("Day of week"), 0, 6, validators.day_of_week_validator),
)
CRON_FIELD_NAMES = tuple(field.name for field in CRON_FIELDS)

# What `ensure_schedules` creates: a nationwide inventory at 02:00 on the first of every
# month and a nationwide rights review every Monday at 03:00.
DEFAULT_TIMING = {
    RunKind.INVENTORY: {"minute": "0", "hour": "2", "day_of_month": "1",
                        "month_of_year": "*", "day_of_week": "*"},
    RunKind.RIGHTS_REVIEW: {"minute": "0", "hour": "3", "day_of_month": "*",
                            "month_of_year": "*", "day_of_week": "1"},
}


# --- Validation -------------------------------------------------------------------------------


def clean_cron_field(name: str, value) -> str:
    """One crontab field, normalised ("1, 15" → "1,15"), or a ValidationError saying what
    the field accepts. Both django-celery-beat's validator (python-crontab's grammar) and
    Celery's own parser, which beat uses, must accept it."""
    field = next(f for f in CRON_FIELDS if f.name == name)
    text = "".join(str(value or "").split()).lower()
    if not text:
        raise ValidationError(forms.Field.default_error_messages["required"], code="required")
    max_length = CrontabSchedule._meta.get_field(name).max_length
    try:
        if len(text) > max_length:
            raise ValueError(text)
        field.validator(text)
        celery_schedules.crontab(**{name: text})
    except (ValidationError, ValueError, TypeError, KeyError, IndexError) as error:
        raise ValidationError(
            _("Use numbers from %(low)s to %(high)s: one (5), a list (1,15), a range (1-5), "
              "a step (*/10), or * for every one.") % {"low": field.low, "high": field.high},
            code="invalid",
        ) from error
    return text


def clean_crontab(**values) -> dict[str, str]:
    """All five fields, checked one by one and then together (a day that no month has, as
    31 February, would never come due). Errors are keyed by field name."""
    cleaned, errors = {}, {}
    for name in CRON_FIELD_NAMES:
        try:
            cleaned[name] = clean_cron_field(name, values.get(name))
        except ValidationError as error:
            errors[name] = error
    if errors:
        raise ValidationError(errors)
    try:
        celery_schedules.crontab(**cleaned)
    except ValueError as error:
        raise ValidationError(
            _("No date matches this day of month in these months: the schedule would never "
              "run."), code="never",
        ) from error
    return cleaned


# --- Writing ----------------------------------------------------------------------------------


def save_schedule(
    user, kind: str, scope: Region | None, *, minute, hour, day_of_month, month_of_year,
    day_of_week, enabled: bool, new: bool = False,
) -> Schedule:
    """Create or change the schedule of ``kind`` over ``scope`` (None: nationwide) and its
    beat task. ``new``: refuse when the jurisdiction already has one of this kind."""
    if kind not in RunKind.values:
        raise ValidationError({"kind": _("Unknown kind of run.")})
    timing = clean_crontab(minute=minute, hour=hour, day_of_month=day_of_month,
                           month_of_year=month_of_year, day_of_week=day_of_week)
    if not may_run(user, scope):
        raise PermissionDenied(_("This jurisdiction is not yours to schedule."))
    with transaction.atomic():
        existing = _locked(Schedule.objects.filter(kind=kind, scope=scope))
        if existing is not None and new:
            raise ValidationError(_duplicate_message())
        return _write(existing, kind, scope, timing, enabled=enabled, user=user)


def set_schedule_enabled(user, schedule: Schedule, enabled: bool) -> Schedule:
    """Turn a schedule on or off, keeping its timing."""
    with transaction.atomic():
        locked = _lock(user, schedule)
        task = _task_of(locked)
        if task is None or task.crontab_id is None:  # its task was removed behind our back
            return _write(locked, locked.kind, locked.scope, DEFAULT_TIMING[locked.kind],
                          enabled=enabled, user=user)
        if enabled and not task.enabled:
            task.last_run_at = None  # due at its next time from now, not at once
        task.enabled = enabled
        task.save()
        locked.updated_by = user
        locked.save(update_fields=["updated_by", "updated_at"])
    return locked


def delete_schedule(user, schedule: Schedule) -> None:
    """Remove a schedule with its beat task and crontab; its past runs stay."""
    with transaction.atomic():
        locked = _lock(user, schedule)
        task = _task_of(locked)
        locked.delete()
        if task is not None:
            crontab_id = task.crontab_id
            task.delete()
            _drop_unused_crontab(crontab_id)


def ensure_default_schedules(*, enabled: bool = True) -> list[tuple[Schedule, str]]:
    """The nationwide schedules every deployment has (see DEFAULT_TIMING), created when
    missing; existing ones are left as staff set them. A schedule whose beat task has gone
    gets one back, disabled. Returns (schedule, "created" | "restored" | "kept")."""
    outcomes = []
    for kind, timing in DEFAULT_TIMING.items():
        with transaction.atomic():
            existing = _locked(Schedule.objects.filter(kind=kind, scope=None))
            if existing is None:
                outcomes.append((_write(None, kind, None, timing, enabled=enabled, user=None),
                                 "created"))
            elif _task_of(existing) is None:
                outcomes.append((_write(existing, kind, None, timing, enabled=False, user=None),
                                 "restored"))
            else:
                outcomes.append((existing, "kept"))
    return outcomes


def _lock(user, schedule: Schedule) -> Schedule:
    locked = _locked(Schedule.objects.restrict(user, Action.RUN_CHECKS).filter(pk=schedule.pk))
    if locked is None:
        raise PermissionDenied(_("This jurisdiction is not yours to schedule."))
    return locked


def _locked(schedules) -> Schedule | None:
    # Not in the default order, which joins the (nullable) region: FOR UPDATE refuses that.
    return schedules.select_for_update().order_by("pk").first()


def _task_of(schedule: Schedule) -> PeriodicTask | None:
    if schedule.periodic_task_id is None:
        return None
    return PeriodicTask.objects.filter(pk=schedule.periodic_task_id).first()


def _duplicate_message() -> str:
    return _("This jurisdiction already has a schedule of this kind: change that one.")


def _write(schedule: Schedule | None, kind: str, scope: Region | None, timing: dict, *,
           enabled: bool, user) -> Schedule:
    """Write the schedule, its crontab and its periodic task (inside the caller's
    transaction, the schedule row locked or new)."""
    if schedule is None:
        schedule = Schedule(kind=kind, scope=scope)
    schedule.updated_by = user
    try:
        with transaction.atomic():
            schedule.save()
    except IntegrityError as error:  # created by someone else a moment ago
        raise ValidationError(_duplicate_message()) from error

    name = task_name(schedule)
    task = _task_of(schedule) or PeriodicTask.objects.filter(name=name).first()
    if task is None:
        task = PeriodicTask(name=name)
    # The schedule's own crontab, changed in place; one that another task shares (someone
    # pointed it there in the admin) is left to that task.
    crontab = task.crontab if task.crontab_id else None
    if crontab is not None and (
        PeriodicTask.objects.filter(crontab=crontab).exclude(pk=task.pk).exists()
    ):
        crontab = None
    zone = ZoneInfo(settings.TIME_ZONE)
    retimed = crontab is None or str(crontab.timezone) != settings.TIME_ZONE or any(
        getattr(crontab, field) != value for field, value in timing.items()
    )
    if retimed:
        crontab = crontab or CrontabSchedule()
        for field, value in timing.items():
            setattr(crontab, field, value)
        crontab.timezone = zone
        crontab.save()
    if retimed or (enabled and not task.enabled):
        # Beat would otherwise start at once a run the new timing "missed" since the last.
        task.last_run_at = None
    task.name = name
    task.task = TASK
    task.args = json.dumps([schedule.pk])
    task.kwargs = "{}"
    task.crontab = crontab
    task.interval = task.solar = task.clocked = None
    task.one_off = False
    task.enabled = enabled
    with translation.override(settings.LANGUAGE_CODE):
        task.description = str(schedule)
    task.save()
    if schedule.periodic_task_id != task.pk:
        schedule.periodic_task = task
        schedule.save(update_fields=["periodic_task", "updated_at"])
    return schedule


def _drop_unused_crontab(crontab_id: int | None) -> None:
    if crontab_id is not None and not PeriodicTask.objects.filter(crontab_id=crontab_id).exists():
        CrontabSchedule.objects.filter(pk=crontab_id).delete()


def task_name(schedule: Schedule) -> str:
    """The periodic task's name: unique (the schedule's id) and readable in the admin."""
    where = f"{schedule.scope.code} {schedule.scope.name}" if schedule.scope_id else "CN"
    return f"inventory schedule {schedule.pk}: {schedule.kind} · {where}"[:200]


# --- Reading ----------------------------------------------------------------------------------


def timing_of(schedule: Schedule) -> dict[str, str] | None:
    """The five crontab fields of the schedule's task (None when it has none)."""
    task = schedule.periodic_task
    crontab = task.crontab if task is not None else None
    if crontab is None:
        return None
    return {name: getattr(crontab, name) for name in CRON_FIELD_NAMES}


def next_run_at(crontab: CrontabSchedule, now: datetime | None = None) -> datetime | None:
    """When the crontab next comes due after ``now``."""
    try:
        schedule = crontab.schedule
        start, delta, _now = schedule.remaining_delta(
            (now or timezone.now()).astimezone(crontab.timezone)
        )
    except (ValueError, RuntimeError):
        return None
    return start + delta


def describe(timing: dict[str, str]) -> str | None:
    """The common timings in words, in the active language; None for the others (the page
    shows the five fields instead). cron-descriptor's Chinese leaves day and month names
    in English, so it is not used."""
    minute, hour = timing["minute"], timing["hour"]
    dom, month, dow = timing["day_of_month"], timing["month_of_year"], timing["day_of_week"]
    if (minute, hour, dom, month, dow) == ("*", "*", "*", "*", "*"):
        return _("Every minute")
    if not minute.isdigit() or month != "*":
        return None
    if hour == "*" and (dom, dow) == ("*", "*"):
        return _("Every hour at minute %(minute)s") % {"minute": int(minute)}
    if not hour.isdigit():
        return None
    time = f"{int(hour):02d}:{int(minute):02d}"
    if (dom, dow) == ("*", "*"):
        return _("Every day at %(time)s") % {"time": time}
    if dom == "*" and dow.isdigit() and int(dow) <= 6:
        # Celery counts Sunday as 0, Django's WEEKDAYS Monday as 0.
        return _("Every %(weekday)s at %(time)s") % {
            "weekday": WEEKDAYS[(int(dow) - 1) % 7], "time": time}
    if dow == "*" and dom.isdigit():
        return _("On day %(day)s of every month at %(time)s") % {"day": int(dom), "time": time}
    return None
