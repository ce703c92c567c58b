"""Create the nationwide schedules every deployment has, when they are missing.

    python manage.py ensure_schedules [--disabled]

A nationwide inventory (清查) at 02:00 on the first of every month and a nationwide rights
review every Monday at 03:00 (``settings.TIME_ZONE``), each a ``Schedule`` with its
django-celery-beat task. Safe to run at every start (``make run`` and the ``migrate``
service of docker-compose.yml do): schedules that exist are left as staff set them; one whose
beat task was deleted gets it back, switched off. ``--disabled`` creates them switched off.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from inventory.schedules import ensure_default_schedules, timing_of


class Command(BaseCommand):
    help = "Create the default nationwide inventory and rights-review schedules if missing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--disabled", action="store_true",
                            help="create missing schedules switched off")

    def handle(self, *args, disabled: bool = False, **options) -> None:
        for schedule, outcome in ensure_default_schedules(enabled=not disabled):
            schedule.refresh_from_db()
            timing = timing_of(schedule) or {}
            task = schedule.periodic_task
            state = "on" if task is not None and task.enabled else "off"
            cron = " ".join(timing.values())
            message = f"{outcome}: {schedule.kind} nationwide [{cron}] {state}"
            if outcome == "kept":
                if options["verbosity"] > 1:
                    self.stdout.write(message)
            elif outcome == "restored":
                self.stdout.write(self.style.WARNING(
                    f"{message} (its beat task was missing; switch it on on the schedules page)"
                ))
            else:
                self.stdout.write(self.style.SUCCESS(message))
