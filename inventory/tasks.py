"""The background jobs: plan a run, work its chunks, finish it; start the scheduled runs.

Tasks take ids, never objects; they are acknowledged late and re-delivered when a worker
dies, which the engine makes harmless. A chunk that fails is retried with a growing pause;
one that keeps failing is marked failed and the run says so.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from . import engine

log = logging.getLogger(__name__)


@shared_task(
    acks_late=True, reject_on_worker_lost=True,
    soft_time_limit=10 * 60, time_limit=12 * 60,
)
def plan_run(run_id: int) -> int:
    """Split the run into chunks and enqueue them; returns the number enqueued."""
    pending = engine.plan(run_id)
    for chunk_id in pending:
        work_chunk.delay(chunk_id)
    if not pending:
        engine.finish(run_id)
    return len(pending)


@shared_task(
    bind=True, acks_late=True, reject_on_worker_lost=True,
    soft_time_limit=settings.INVENTORY_CHUNK_SOFT_TIME_LIMIT,
    time_limit=settings.INVENTORY_CHUNK_SOFT_TIME_LIMIT + 60,
    max_retries=settings.INVENTORY_CHUNK_RETRIES,
)
def work_chunk(self, chunk_id: int) -> bool:
    attempt = engine.start_attempt(chunk_id)
    # Deliveries beyond the retries: the worker died on this chunk each time (out of memory,
    # killed); give up on it rather than loop for ever.
    if attempt is not None and attempt > self.max_retries + 2:
        engine.fail_chunk(chunk_id, f"Gave up after {attempt - 1} deliveries: the worker "
                                    "stopped each time before the chunk was done.")
        return _finish_run_of(chunk_id)
    try:
        worked = engine.work_chunk(chunk_id) if attempt is not None else False
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        engine.note_error(chunk_id, error)
        if self.request.retries < self.max_retries:
            log.warning("Chunk %s failed (%s); retrying", chunk_id, error)
            if self.request.is_eager:  # the embedded default: try again here and now
                return work_chunk.apply(args=(chunk_id,), retries=self.request.retries + 1).get()
            raise self.retry(exc=exc, countdown=2 ** self.request.retries) from exc
        log.error("Chunk %s failed for good: %s", chunk_id, error)
        engine.fail_chunk(chunk_id, error)
        worked = False
    _finish_run_of(chunk_id)
    return worked


def _finish_run_of(chunk_id: int) -> bool:
    from .models import RunChunk

    run_id = RunChunk.objects.filter(pk=chunk_id).values_list("run_id", flat=True).first()
    if run_id is not None:
        engine.finish(run_id)
    return False


@shared_task(acks_late=True, reject_on_worker_lost=True)
def start_scheduled_run(schedule_id: int) -> int | None:
    """What django-celery-beat calls: start (or join) the schedule's run."""
    from .services import start_scheduled

    run = start_scheduled(schedule_id)
    return run.pk if run else None


@shared_task(acks_late=True, reject_on_worker_lost=True)
def resume_stalled_runs() -> int:
    """Pick up runs whose worker died and whose messages were not delivered again."""
    from .models import Run
    from .services import is_stalled

    resumed = 0
    for run in Run.objects.active():
        if is_stalled(run):
            plan_run.delay(run.pk)
            resumed += 1
    return resumed
