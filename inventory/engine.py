"""Running a run: plan it into chunks, work each chunk in one transaction, finish it.

Every step is safe to repeat. Planning happens once (a run leaves "queued" under a row
lock). A chunk is worked under its own row lock and marked done in the transaction that
writes its findings, so a chunk delivered twice — a worker killed before it acknowledged,
a visibility timeout — finds itself done and does nothing. Findings are upserted on their
identity (asset, rule, subject), so two runs over the same assets at once update one row.
Finishing resolves what no longer holds only when every chunk succeeded: a run that could
not look everywhere never closes a finding it did not look for.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from accounts.scoping import jurisdiction_q
from catalog.history import ledger_context
from catalog.models import DataAsset

from .choices import ChunkState, FindingRule, FindingStatus, RunKind, RunStatus
from .models import Finding, Run, RunChunk, VolumeSnapshot
from .revocation import revoke_expired_grants
from .rules import Context, Rule, checked_assets, rules_of

log = logging.getLogger(__name__)

CURRENT_SQL = "('open', 'answered', 'closed')"  # FindingStatus current values, for ON CONFLICT


def db_now() -> datetime:
    """The database's clock: every run and chunk is timed by the same one."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement_timestamp()")
            return cursor.fetchone()[0]
    return timezone.now()


def scope_condition(run: Run) -> Q:
    """The assets (or findings: they carry the same region fields) inside the run's scope."""
    if run.scope_id is None:
        return Q()
    return jurisdiction_q(run.scope.level, run.scope_id)


def scoped_assets(run: Run) -> QuerySet:
    return checked_assets(run.kind).filter(scope_condition(run))


# --- Planning -------------------------------------------------------------------------------

def plan(run_id: int) -> list[int]:
    """Split a queued run into chunks of asset ids; return the chunks still to work."""
    size = settings.INVENTORY_CHUNK_SIZE
    with transaction.atomic():
        run = Run.objects.select_for_update(of=("self",)).select_related("scope").get(pk=run_id)
        if run.status == RunStatus.QUEUED:
            run.reference_time = db_now()
            ids = scoped_assets(run).order_by("id").values_list("id", flat=True)
            chunks, total, after = [], 0, None
            while True:
                page = ids if after is None else ids.filter(id__gt=after)
                first = page.first()
                if first is None:
                    break
                nth = list(page[size - 1:size])
                count = size if nth else page.count()
                last = nth[0] if nth else page.last()
                chunks.append(RunChunk(run=run, seq=len(chunks), first_id=first, last_id=last,
                                       assets=count))
                total += count
                after = last
            RunChunk.objects.bulk_create(chunks)
            run.assets_total, run.chunks_total = total, len(chunks)
            run.status, run.started_at = RunStatus.RUNNING, run.reference_time
            run.save(update_fields=["reference_time", "assets_total", "chunks_total", "status",
                                    "started_at"])
        if run.status != RunStatus.RUNNING:
            return []
        return list(run.chunks.filter(state=ChunkState.PENDING).values_list("id", flat=True))


# --- Working a chunk ------------------------------------------------------------------------

def work_chunk(chunk_id: int) -> bool:
    """Check one chunk's assets; False when it was already done (a repeated delivery)."""
    with transaction.atomic():
        chunk = (
            RunChunk.objects.select_for_update(of=("self",))
            .select_related("run__scope").get(pk=chunk_id)
        )
        run = chunk.run
        if chunk.state != ChunkState.PENDING or run.status != RunStatus.RUNNING:
            return False
        now = db_now()
        assets = scoped_assets(run).filter(id__gte=chunk.first_id, id__lte=chunk.last_id)
        ctx = Context(assets=assets, at=run.reference_time, first_id=chunk.first_id,
                      last_id=chunk.last_id)
        for rule in rules_of(run.kind):
            _upsert(rule, ctx, run, now)
        if run.kind == RunKind.INVENTORY:
            _remember_volumes(assets, now)
        else:
            with ledger_context(actor=run.started_by_id, reason=str(
                    FindingRule.GRANT_REVOKED.label)):
                revoke_expired_grants(assets, run, now, first_id=chunk.first_id,
                                      last_id=chunk.last_id)
        chunk.counts = _chunk_counts(run, chunk)
        chunk.state, chunk.finished_at = ChunkState.DONE, now
        chunk.save(update_fields=["counts", "state", "finished_at"])
        Run.objects.filter(pk=run.pk).update(
            chunks_done=F("chunks_done") + 1, assets_done=F("assets_done") + chunk.assets
        )
    return True


def fail_chunk(chunk_id: int, error: str) -> None:
    """Give up on a chunk after its retries: the run will say it failed."""
    with transaction.atomic():
        chunk = RunChunk.objects.select_for_update().get(pk=chunk_id)
        if chunk.state != ChunkState.PENDING:
            return
        chunk.state, chunk.error = ChunkState.FAILED, error[:2000]
        chunk.finished_at = timezone.now()
        chunk.save(update_fields=["state", "error", "finished_at"])
        Run.objects.filter(pk=chunk.run_id).update(chunks_failed=F("chunks_failed") + 1)


def start_attempt(chunk_id: int) -> int | None:
    """Count a delivery of a pending chunk before working it (committed at once, so that a
    chunk whose worker dies every time is still counted); None when it is not pending."""
    if not RunChunk.objects.filter(pk=chunk_id, state=ChunkState.PENDING).update(
        attempts=F("attempts") + 1
    ):
        return None
    return RunChunk.objects.filter(pk=chunk_id).values_list("attempts", flat=True).first()


def note_error(chunk_id: int, error: str) -> None:
    RunChunk.objects.filter(pk=chunk_id, state=ChunkState.PENDING).update(error=error[:2000])


def _upsert(rule: Rule, ctx: Context, run: Run, now: datetime) -> None:
    rows_sql, rows_params = rule.rows(ctx).query.sql_with_params()
    finding, asset = Finding._meta.db_table, DataAsset._meta.db_table
    if connection.vendor == "postgresql":
        # One primary-key lookup per row found: a plain join, when the planner expects many
        # rows, turns into a scan of the whole asset table in every chunk.
        with_asset = f"""CROSS JOIN LATERAL (
            SELECT x.id, x.holder_id, x.region_id, x.region_province_id, x.region_city_id
            FROM {asset} x WHERE x.id = f.asset_id OFFSET 0) a"""  # noqa: S608
    else:
        with_asset = f"INNER JOIN {asset} a ON a.id = f.asset_id"
    sql = f"""
        INSERT INTO {finding} (
            rule, severity, asset_id, subject, evidence, institution_id, region_id,
            region_province_id, region_city_id, status, first_run_id, last_run_id,
            first_seen_at, last_seen_at, answer, closing_note)
        SELECT %s, %s, a.id, f.subject, COALESCE(SUBSTR(f.evidence, 1, 500), ''), a.holder_id,
            a.region_id,
            a.region_province_id, a.region_city_id, 'open', %s, %s, %s, %s, '', ''
        FROM ({rows_sql}) f {with_asset}
        WHERE 1 = 1
        ON CONFLICT (asset_id, rule, subject) WHERE status IN {CURRENT_SQL}
        DO UPDATE SET last_run_id = EXCLUDED.last_run_id,
            last_seen_at = EXCLUDED.last_seen_at, evidence = EXCLUDED.evidence,
            severity = EXCLUDED.severity, institution_id = EXCLUDED.institution_id,
            region_id = EXCLUDED.region_id, region_province_id = EXCLUDED.region_province_id,
            region_city_id = EXCLUDED.region_city_id
    """  # noqa: S608 - table names from the models, values as parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [rule.code.value, int(rule.severity), run.pk, run.pk, now, now,
                             *rows_params])


def _remember_volumes(assets: QuerySet, now: datetime) -> None:
    """Keep each asset's volume as this run saw it, for the next run's volume check."""
    rows_sql, params = assets.values("id", "record_count", "storage_bytes").query.sql_with_params()
    snapshot = VolumeSnapshot._meta.db_table
    differs = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    sql = f"""
        INSERT INTO {snapshot} (asset_id, record_count, storage_bytes, seen_at)
        SELECT f.id, f.record_count, f.storage_bytes, %s FROM ({rows_sql}) f WHERE 1 = 1
        ON CONFLICT (asset_id) DO UPDATE SET record_count = EXCLUDED.record_count,
            storage_bytes = EXCLUDED.storage_bytes, seen_at = EXCLUDED.seen_at
        WHERE {snapshot}.record_count {differs} EXCLUDED.record_count
            OR {snapshot}.storage_bytes {differs} EXCLUDED.storage_bytes
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, *params])


def _chunk_counts(run: Run, chunk: RunChunk) -> dict:
    """{rule: {"found": n, "new": n}} of what this chunk saw (in its own transaction, so
    exact even while other runs touch the same findings)."""
    rows = (
        Finding.objects.filter(last_run=run, asset_id__gte=chunk.first_id,
                               asset_id__lte=chunk.last_id)
        .values("rule")
        .annotate(found=Count("id"), new=Count("id", filter=Q(first_run=run)))
    )
    return {row["rule"]: {"found": row["found"], "new": row["new"]} for row in rows}


# --- Finishing ------------------------------------------------------------------------------

def finish(run_id: int) -> bool:
    """Close the run once no chunk is pending; True when this call closed it."""
    with transaction.atomic():
        run = Run.objects.select_for_update(of=("self",)).select_related("scope").get(pk=run_id)
        if run.status != RunStatus.RUNNING:
            return False
        states = Counter(run.chunks.values_list("state", flat=True))
        if states[ChunkState.PENDING]:
            return False
        counts: dict[str, dict[str, int]] = {}
        for chunk_counts in run.chunks.filter(state=ChunkState.DONE).values_list(
            "counts", flat=True
        ):
            for rule, numbers in chunk_counts.items():
                into = counts.setdefault(rule, {"found": 0, "new": 0, "resolved": 0})
                into["found"] += numbers["found"]
                into["new"] += numbers["new"]
        now = db_now()
        if states[ChunkState.FAILED]:
            run.status = RunStatus.FAILED
            errors = run.chunks.filter(state=ChunkState.FAILED).values_list("error", flat=True)
            run.error = (
                f"{states[ChunkState.FAILED]} / {run.chunks_total}: "
                + "; ".join(sorted(set(errors))[:3])
            )[:4000]
        else:
            for rule in rules_of(run.kind):
                if not rule.resolves_itself:
                    continue
                resolved = Finding.objects.current().filter(
                    scope_condition(run), rule=rule.code, last_seen_at__lt=run.reference_time,
                ).update(status=FindingStatus.RESOLVED, resolved_at=now)
                if resolved:
                    counts.setdefault(rule.code.value, {"found": 0, "new": 0, "resolved": 0})
                    counts[rule.code.value]["resolved"] = resolved
            run.status = RunStatus.SUCCEEDED
        run.counts, run.finished_at = counts, now
        run.save(update_fields=["status", "error", "counts", "finished_at"])
        transaction.on_commit(lambda: notify_owners(run))
    return True


def notify_owners(run: Run) -> None:
    """Tell each institution's registrars and administrators about its new findings."""
    from .notifications import notify_new_findings

    try:
        notify_new_findings(run)
    except Exception:  # a failed notification must not undo a finished run
        log.exception("Could not notify the owners of run %s's findings", run.pk)

