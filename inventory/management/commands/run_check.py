"""Run an inventory or a rights review now, in this process, and print what it found."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Region
from inventory import engine
from inventory.choices import RunKind
from inventory.models import Run


class Command(BaseCommand):
    help = "Run an inventory (清查) or a rights review over a jurisdiction, in this process."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=RunKind.values)
        parser.add_argument("--scope", default="", help="GB/T 2260 region code (default: all)")

    def handle(self, *args, kind: str, scope: str, **options):
        region = None
        if scope:
            region = Region.objects.filter(code=scope).first()
            if region is None:
                raise CommandError(f"Unknown region code {scope!r}.")
        if Run.objects.active().filter(kind=kind, scope=region).exists():
            raise CommandError("A run of this kind is already under way for this scope.")
        run = Run.objects.create(kind=kind, scope=region)
        for chunk_id in engine.plan(run.pk):
            engine.work_chunk(chunk_id)
        engine.finish(run.pk)
        run.refresh_from_db()
        self.stdout.write(f"{run} — {run.get_status_display()}, {run.assets_total} assets")
        for rule, numbers in sorted(run.counts.items()):
            self.stdout.write(f"  {rule}: {numbers}")
        if run.status != "succeeded":
            raise CommandError(run.error or "The run did not finish.")
