"""Runs worked in the test's own process (the engine, without a broker), and a world."""

from __future__ import annotations

import pytest

from inventory import engine
from inventory.models import Finding, Run


def run_now(kind: str, scope=None, *, user=None) -> Run:
    """Plan, work and finish a run here and now, chunk by chunk, as a worker would."""
    run = Run.objects.create(kind=kind, scope=scope, started_by=user)
    for chunk_id in engine.plan(run.pk):
        engine.work_chunk(chunk_id)
    engine.finish(run.pk)
    run.refresh_from_db()
    return run


def found(rule: str, **filters) -> set[tuple[int, str]]:
    """(asset id, subject) of the current findings of ``rule``."""
    return set(
        Finding.objects.current().filter(rule=rule, **filters).values_list("asset_id", "subject")
    )


@pytest.fixture
def small_chunks(settings):
    settings.INVENTORY_CHUNK_SIZE = 3
    return settings


@pytest.fixture
def jobs_in_process():
    """Tasks run in this process as they are sent (the embedded default's mode)."""
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous
