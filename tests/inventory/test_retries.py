"""A failing chunk is retried; one that keeps failing fails the run, which says so."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from inventory import engine, tasks
from inventory.choices import ChunkState, RunKind, RunStatus
from inventory.models import Run
from tests.factories import DataAssetFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def planned(hospital, small_chunks):
    for _ in range(5):
        DataAssetFactory(holder=hospital, grade=4, stored_in_country=False)
    run = Run.objects.create(kind=RunKind.INVENTORY)
    return run, engine.plan(run.pk)


def flaky(failures: int, monkeypatch):
    """Make the engine fail ``failures`` times before it works."""
    real, calls = engine.work_chunk, {"n": 0}

    def work(chunk_id):
        calls["n"] += 1
        if calls["n"] <= failures:
            raise OperationalError("server closed the connection unexpectedly")
        return real(chunk_id)

    monkeypatch.setattr(engine, "work_chunk", work)
    return calls


def test_a_chunk_that_fails_once_is_retried_and_counted_once(planned, monkeypatch,
                                                             jobs_in_process):
    run, (first, second) = planned
    calls = flaky(1, monkeypatch)
    tasks.work_chunk.apply(args=(first,))
    tasks.work_chunk.apply(args=(second,))
    run.refresh_from_db()
    assert calls["n"] == 3
    assert run.status == RunStatus.SUCCEEDED and run.chunks_done == 2
    assert run.chunks.get(pk=first).attempts == 2  # one failed attempt, one that worked
    assert run.counts["stored_abroad"]["found"] == 5


def test_a_chunk_that_keeps_failing_fails_the_run(planned, monkeypatch, settings,
                                                  jobs_in_process):
    run, (first, second) = planned
    tasks.work_chunk.apply(args=(first,))
    calls = flaky(99, monkeypatch)
    tasks.work_chunk.apply(args=(second,))
    run.refresh_from_db()
    assert calls["n"] == settings.INVENTORY_CHUNK_RETRIES + 1
    assert run.status == RunStatus.FAILED and run.chunks_failed == 1
    chunk = run.chunks.get(pk=second)
    assert chunk.state == ChunkState.FAILED and "closed the connection" in chunk.error
    assert "closed the connection" in run.error


def test_a_chunk_whose_worker_keeps_dying_is_given_up(planned, settings, jobs_in_process):
    run, (first, second) = planned
    tasks.work_chunk.apply(args=(first,))
    # Each delivery is counted before the work starts: these were begun and never finished.
    run.chunks.filter(pk=second).update(attempts=settings.INVENTORY_CHUNK_RETRIES + 2)
    tasks.work_chunk.apply(args=(second,))
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "deliveries" in run.chunks.get(pk=second).error
