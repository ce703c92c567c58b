"""Schedules: the page and the service keep a Schedule, its crontab and its beat task in step,
inside the steward's jurisdiction only; a due schedule starts a run of its kind and scope."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from accounts.choices import Role
from inventory import schedules, services
from inventory.choices import RunKind, RunStatus
from inventory.models import Run, Schedule
from tests.factories import InstitutionFactory, MembershipFactory, UserFactory, region

pytestmark = pytest.mark.django_db

LIST = reverse("inventory:schedule_list")
NEW = reverse("inventory:schedule_new")
MONTHLY = {"minute": "15", "hour": "1", "day_of_month": "1", "month_of_year": "*",
           "day_of_week": "*"}


def edit_url(schedule: Schedule) -> str:
    return reverse("inventory:schedule_edit", args=[schedule.pk])


def county_steward(code: str, username: str):
    commission = InstitutionFactory(commission=True, region=region(code))
    return MembershipFactory(user=UserFactory(username=username), institution=commission,
                             role=Role.STEWARD).user


@pytest.fixture
def xihu_steward(db):
    return county_steward("330106", "xihu")


@pytest.fixture
def province_schedule(steward):
    return schedules.save_schedule(steward, RunKind.INVENTORY, region("330000"), **MONTHLY,
                                   enabled=True, new=True)


def nothing_written():
    return (Schedule.objects.count(), PeriodicTask.objects.count(),
            CrontabSchedule.objects.count()) == (0, 0, 0)


def task_of(schedule: Schedule) -> PeriodicTask:
    schedule.refresh_from_db()
    return PeriodicTask.objects.select_related("crontab").get(pk=schedule.periodic_task_id)


def timing(task: PeriodicTask) -> dict[str, str]:
    return {name: getattr(task.crontab, name) for name in schedules.CRON_FIELD_NAMES}


# --- The steward's round trip ------------------------------------------------------------------


def test_a_steward_adds_changes_switches_and_removes_a_province_schedule(client, steward):
    client.force_login(steward)
    assert f'href="{LIST}"' in client.get(reverse("inventory:run_list")).content.decode()
    form = client.get(NEW).context["form"]
    assert [code for code, _label in form.fields["scope"].choices] == ["330000"]

    response = client.post(NEW, {"kind": RunKind.INVENTORY, "scope": "330000", **MONTHLY,
                                 "enabled": "on"})
    assert response.status_code == 302 and response["Location"] == LIST
    schedule = Schedule.objects.get()
    assert (schedule.kind, schedule.scope_id, schedule.updated_by) == (
        RunKind.INVENTORY, "330000", steward)
    task = task_of(schedule)
    assert task.task == "inventory.tasks.start_scheduled_run"
    assert json.loads(task.args) == [schedule.pk] and json.loads(task.kwargs) == {}
    assert task.enabled and timing(task) == MONTHLY
    assert str(task.crontab.timezone) == "Asia/Shanghai"
    assert task.name == f"inventory schedule {schedule.pk}: inventory · 330000 浙江省"

    page = client.get(LIST)
    [row] = page.context["rows"]
    assert row.schedule == schedule and row.enabled and row.last_run is None
    assert row.words == "On day 1 of every month at 01:15"
    assert row.next_run.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%d %H:%M") == "01 01:15"
    assert "On day 1 of every month at 01:15" in page.content.decode()

    # Changed: the same task and crontab rows follow, switched off.
    weekly = {"minute": "30", "hour": "4", "day_of_month": "*", "month_of_year": "*",
              "day_of_week": "1"}
    assert client.get(edit_url(schedule)).context["form"].initial["minute"] == "15"
    response = client.post(edit_url(schedule), weekly)
    assert response.status_code == 302
    changed = task_of(schedule)
    assert (changed.pk, changed.crontab_id) == (task.pk, task.crontab_id)
    assert timing(changed) == weekly and not changed.enabled
    assert client.get(LIST).context["rows"][0].words == "Every Monday at 04:30"

    client.post(edit_url(schedule), {"action": "enable"})
    assert task_of(schedule).enabled
    client.post(edit_url(schedule), {"action": "disable"})
    assert not task_of(schedule).enabled
    assert client.get(LIST).context["rows"][0].next_run is None

    # Removed with its task and crontab; its runs stay.
    run = Run.objects.create(kind=RunKind.INVENTORY, scope=region("330000"), schedule=schedule,
                             status=RunStatus.SUCCEEDED)
    response = client.post(edit_url(schedule), {"action": "delete"})
    assert response.status_code == 302
    assert nothing_written()
    run.refresh_from_db()
    assert run.schedule_id is None


def test_the_list_shows_the_last_run_and_timings_it_cannot_put_in_words(client, steward):
    schedule = schedules.save_schedule(
        steward, RunKind.RIGHTS_REVIEW, region("330000"), minute="0", hour="8,20",
        day_of_month="*", month_of_year="*", day_of_week="1-5", enabled=True,
    )
    Run.objects.create(kind=RunKind.RIGHTS_REVIEW, scope=region("330000"), schedule=schedule,
                       status=RunStatus.SUCCEEDED)
    last = Run.objects.create(kind=RunKind.RIGHTS_REVIEW, scope=region("330000"),
                              schedule=schedule)
    client.force_login(steward)
    page = client.get(LIST)
    [row] = page.context["rows"]
    assert row.last_run == last and row.words is None and row.expression == "0 8,20 * * 1-5"
    assert "minute 0 · hour 8,20 · day * · month * · weekday 1-5" in page.content.decode()


# --- Jurisdiction --------------------------------------------------------------------------------


def test_a_county_steward_neither_sees_nor_changes_the_province_schedule(
    client, xihu_steward, province_schedule
):
    client.force_login(xihu_steward)
    assert client.get(LIST).context["rows"] == []
    assert client.get(edit_url(province_schedule)).status_code == 404
    for data in (MONTHLY, {"action": "delete"}, {"action": "disable"}):
        assert client.post(edit_url(province_schedule), data).status_code == 404
    task = task_of(province_schedule)
    assert task.enabled and timing(task) == MONTHLY
    # Behind the page, the service says no as well.
    with pytest.raises(PermissionDenied):
        schedules.delete_schedule(xihu_steward, province_schedule)
    with pytest.raises(PermissionDenied):
        schedules.set_schedule_enabled(xihu_steward, province_schedule, False)
    with pytest.raises(PermissionDenied):
        schedules.save_schedule(xihu_steward, RunKind.INVENTORY, region("330000"), **MONTHLY,
                                enabled=False)
    assert Schedule.objects.count() == 1 and task_of(province_schedule).enabled


def test_a_county_steward_schedules_their_county_and_no_other(client, xihu_steward):
    client.force_login(xihu_steward)
    form = client.get(NEW).context["form"]
    assert [code for code, _label in form.fields["scope"].choices] == ["330106"]
    for other in ("330102", "330000", ""):
        response = client.post(NEW, {"kind": RunKind.INVENTORY, "scope": other, **MONTHLY})
        assert response.status_code == 400
        assert "scope" in response.context["form"].errors
    assert nothing_written()
    with pytest.raises(PermissionDenied):
        schedules.save_schedule(xihu_steward, RunKind.INVENTORY, region("330102"), **MONTHLY,
                                enabled=True)
    assert nothing_written()

    response = client.post(NEW, {"kind": RunKind.INVENTORY, "scope": "330106", **MONTHLY})
    assert response.status_code == 302
    assert Schedule.objects.get().scope_id == "330106"


def test_the_province_steward_keeps_the_county_schedules_of_the_province(
    client, steward, xihu_steward
):
    county = schedules.save_schedule(xihu_steward, RunKind.INVENTORY, region("330106"),
                                     **MONTHLY, enabled=True)
    client.force_login(steward)
    assert [row.schedule for row in client.get(LIST).context["rows"]] == [county]
    assert client.post(edit_url(county), {"action": "disable"}).status_code == 302
    assert not task_of(county).enabled


def test_without_run_checks_the_pages_are_forbidden(client, registrar, province_schedule):
    assert client.get(LIST).status_code == 302  # anonymous: to the login page
    client.force_login(registrar)
    assert client.get(LIST).status_code == 403
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, {"kind": RunKind.INVENTORY, "scope": "330000", **MONTHLY}
                       ).status_code == 403
    assert client.get(edit_url(province_schedule)).status_code == 403
    assert f'href="{reverse("inventory:run_list")}"' not in client.get(
        reverse("catalog:asset_list")).content.decode()
    assert Schedule.objects.count() == 1


# --- Bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize("bad, field", [
    ({"minute": "60"}, "minute"),
    ({"minute": ""}, "minute"),
    ({"hour": "2am"}, "hour"),
    ({"hour": "*/0"}, "hour"),
    ({"day_of_month": "0"}, "day_of_month"),
    ({"month_of_year": "13"}, "month_of_year"),
    ({"day_of_week": "7"}, "day_of_week"),  # python-crontab takes it, Celery does not
    ({"day_of_week": "1-8"}, "day_of_week"),
    ({"day_of_month": "31", "month_of_year": "2"}, None),  # never comes due
])
def test_bad_timing_is_a_form_error_and_writes_nothing(client, steward, bad, field):
    client.force_login(steward)
    response = client.post(NEW, {"kind": RunKind.INVENTORY, "scope": "330000",
                                 **{**MONTHLY, **bad}, "enabled": "on"})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == [field or "__all__"]
    assert "Nothing was saved" in response.content.decode() or field is None
    assert nothing_written()
    with pytest.raises(ValidationError):
        schedules.save_schedule(steward, RunKind.INVENTORY, region("330000"),
                                **{**MONTHLY, **bad}, enabled=True)
    assert nothing_written()


def test_bad_timing_on_an_edit_leaves_the_schedule_as_it_was(client, steward, province_schedule):
    client.force_login(steward)
    response = client.post(edit_url(province_schedule), {**MONTHLY, "hour": "24"})
    assert response.status_code == 400
    assert "Use numbers from 0 to 23" in response.content.decode()
    task = task_of(province_schedule)
    assert task.enabled and timing(task) == MONTHLY


def test_errors_speak_chinese_by_default(zh_client, steward):
    zh_client.force_login(steward)
    response = zh_client.post(NEW, {"kind": RunKind.INVENTORY, "scope": "330000",
                                    **{**MONTHLY, "minute": ""}})
    assert response.status_code == 400
    assert "该字段是必填项。" in response.content.decode()
    assert nothing_written()


def test_a_second_schedule_of_a_kind_for_a_jurisdiction_is_refused(
    client, steward, province_schedule
):
    client.force_login(steward)
    response = client.post(NEW, {"kind": RunKind.INVENTORY, "scope": "330000",
                                 **{**MONTHLY, "hour": "5"}})
    assert response.status_code == 400
    assert "already has a schedule of this kind" in response.content.decode()
    assert Schedule.objects.count() == PeriodicTask.objects.count() == 1
    assert timing(task_of(province_schedule)) == MONTHLY
    # Another kind for the same jurisdiction is fine.
    response = client.post(NEW, {"kind": RunKind.RIGHTS_REVIEW, "scope": "330000", **MONTHLY})
    assert response.status_code == 302 and Schedule.objects.count() == 2


# --- What beat calls -----------------------------------------------------------------------------


def test_a_due_schedule_starts_a_run_of_its_kind_and_scope(
    steward, province_schedule, django_capture_on_commit_callbacks
):
    review = schedules.save_schedule(steward, RunKind.RIGHTS_REVIEW, region("330000"),
                                     **MONTHLY, enabled=True)
    for schedule in (province_schedule, review):
        # Exactly what beat sends: the task's own arguments.
        [schedule_id] = json.loads(task_of(schedule).args)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            run = services.start_scheduled(schedule_id)
        assert (run.kind, run.scope_id, run.schedule_id) == (schedule.kind, "330000", schedule.pk)
        assert run.status == RunStatus.QUEUED and run.started_by is None
        assert len(callbacks) == 1  # plan_run, sent after the commit
        # Due again while it is under way: the same run, no second one.
        with django_capture_on_commit_callbacks(execute=False):
            assert services.start_scheduled(schedule_id) == run
        assert Run.objects.filter(schedule=schedule).count() == 1
    assert services.start_scheduled(10**9) is None


def test_ensure_schedules_creates_the_nationwide_defaults_once():
    call_command("ensure_schedules", verbosity=0)
    made = {s.kind: s for s in Schedule.objects.all()}
    assert set(made) == {RunKind.INVENTORY, RunKind.RIGHTS_REVIEW}
    assert all(s.scope_id is None for s in made.values())
    inventory, review = task_of(made[RunKind.INVENTORY]), task_of(made[RunKind.RIGHTS_REVIEW])
    assert timing(inventory) == {"minute": "0", "hour": "2", "day_of_month": "1",
                                 "month_of_year": "*", "day_of_week": "*"}
    assert timing(review) == {"minute": "0", "hour": "3", "day_of_month": "*",
                              "month_of_year": "*", "day_of_week": "1"}
    assert inventory.enabled and review.enabled
    # Staff's changes stay; a lost beat task comes back switched off.
    PeriodicTask.objects.filter(pk=review.pk).update(enabled=False)
    inventory.delete()
    call_command("ensure_schedules", verbosity=0)
    assert Schedule.objects.count() == 2 and PeriodicTask.objects.count() == 2
    assert not task_of(made[RunKind.RIGHTS_REVIEW]).enabled
    restored = task_of(made[RunKind.INVENTORY])
    assert not restored.enabled and timing(restored)["hour"] == "2"


# --- Words and times -----------------------------------------------------------------------------


@pytest.mark.parametrize("cron, words", [
    ("* * * * *", "Every minute"),
    ("5 * * * *", "Every hour at minute 5"),
    ("0 2 * * *", "Every day at 02:00"),
    ("0 3 * * 1", "Every Monday at 03:00"),
    ("0 3 * * 0", "Every Sunday at 03:00"),
    ("0 2 1 * *", "On day 1 of every month at 02:00"),
    ("0 2 1 1,7 *", None),
    ("*/10 * * * *", None),
])
def test_common_timings_in_words(cron, words):
    fields = dict(zip(schedules.CRON_FIELD_NAMES, cron.split(), strict=True))
    with translation.override("en"):
        assert schedules.describe(fields) == words


def test_next_run_is_in_the_commission_time_zone():
    shanghai = ZoneInfo("Asia/Shanghai")
    crontab = CrontabSchedule(minute="0", hour="2", day_of_month="1", month_of_year="*",
                              day_of_week="*", timezone=shanghai)
    now = datetime(2026, 1, 15, 12, 0, tzinfo=shanghai)
    assert schedules.next_run_at(crontab, now) == datetime(2026, 2, 1, 2, 0, tzinfo=shanghai)


def test_a_schedule_removed_by_any_path_takes_its_beat_task(province_schedule):
    task_id = province_schedule.periodic_task_id
    assert PeriodicTask.objects.filter(pk=task_id).exists()
    Schedule.objects.filter(pk=province_schedule.pk).delete()  # as the admin or a shell would
    assert not PeriodicTask.objects.filter(pk=task_id).exists()
