"""Benchmark the inventory (清查) and the rights review at a million assets, with one worker.

    python bench/inventory_runs.py [--assets 1000000] [--allocations 1000000] [--reuse]
                              [--kinds inventory,rights_review] [--chunk-size N] [--profile]

1. The world of scoping.py (``seed_demo`` assets, 100,000 explicit grants, some expired) is
   built or reused; the allocations ``seed_demo`` made are deleted (``--keep-demo-allocations``
   keeps them) and ``--allocations`` rights allocations are made in plain SQL
   (``INSERT … SELECT`` over the assets in code order and ``generate_series``; skipped when
   the same number made today is there — their dates are relative to the day made).
2. Findings, runs, chunks and volume snapshots are emptied (``TRUNCATE``), so that the first
   run of each kind creates its findings and the repeat updates them.
3. For each kind, twice ("first", "repeat"): one real Celery worker process is started
   (``--pool=solo``, a queue of its own, Redis database 11), a nationwide run is started
   with ``inventory.services.start_run`` as the page does (its task is sent when the
   transaction commits), and the run is polled until it has finished; then until the worker
   answers a ping (it is idle: the owners' notifications are sent). Reported: wall time,
   the run's own started_at → finished_at, its chunks, the findings by rule, the worker's
   peak resident memory (VmHWM) and CPU time.
4. For comparison, single SQL passes over the same tables (a sequential scan counting the
   rows, with and without parallel workers; the allocations joined to their assets), timed
   directly and under EXPLAIN (ANALYZE, BUFFERS).
5. A table, ``results/inventory-<UTC timestamp>.json``, and with ``--readme`` the table in
   bench/README.md (between the ``inventory-results`` markers).

``--profile`` instead works one run of each kind in this process, chunk by chunk through
``inventory.engine``, timing every SQL statement (Django's ``execute_wrapper``), and prints
the time per rule and statement.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from catalog_list import RESULTS, ROOT, configure, ensure_database, environment, prepare

ALLOCATION_BASIS = "bench/inventory.py: generated allocation"  # marks the rows this owns
REDIS_URL = "redis://127.0.0.1:6379/11"
GOAL_SECONDS = 60
SEED_LOCK = 2026_11_24  # pg_advisory_xact_lock key of the allocation seeding
README = Path(__file__).resolve().parent / "README.md"
MARKERS = ("<!-- inventory-results -->", "<!-- /inventory-results -->")
HOLDLESS_PERCENT = 10  # assets numbered n with n % 100 below this get no hold
STRIDE = 7919  # the other allocations pick asset (s · STRIDE + 17) mod N
KINDS = ("inventory", "rights_review")

# --- Seeding the allocations ----------------------------------------------------------------

# The end date of an allocation from a band number b (0–49): 0 expired (1–365 days ago),
# 1 ending within the 30-day window, 2–19 ending in one to five years, the rest open-ended.
END_BAND = """
    CASE WHEN {b} = 0 THEN current_date - (1 + {v} %% 365)::int
         WHEN {b} = 1 THEN current_date + ({v} %% 31)::int
         WHEN {b} < 20 THEN current_date + (365 + {v} %% 1461)::int
    END
"""
VALID_FROM = "least(DATE '2019-01-01' + ({v} %% 1500)::int, current_date - 400)"

# The kinds of the non-holding allocations, by slot s mod 20.
OTHER_KINDS = """
  k BETWEEN 0 AND 5: processing and use for the holder;
  k 6–9: a personal right (know, access, copy, correct, delete, withdraw consent) of the data
         subjects;
  k 10: processing and use given to the data subjects (a resource right: a finding);
  k 11–13: processing and use for a CDC, with a purpose and an end date;
  k 14: the same without a purpose (a finding, unless the CDC holds the asset);
  k 15: with a purpose, open-ended (a finding, likewise);
  k 16: product operation for a CDC (a finding, likewise);
  k 17: product operation for the holder, on any asset (a finding on grade 5);
  k 18: product operation for the holder, on a grade-5 asset (a finding);
  k 19: processing and use for another institution, for research.
"""


def seed_allocations(total: int, *, keep_demo: bool = False) -> dict:
    """``total`` allocations: a hold for most assets, then the other kinds; idempotent.

    The allocations ``seed_demo`` makes (about two per asset) are deleted first, with their
    history rows, unless ``keep_demo``: the review then runs over exactly ``total``."""
    from django.db import connection, transaction

    timings: dict[str, float] = {}
    started = time.monotonic()

    def lap(name: str) -> None:
        nonlocal started
        timings[name] = round(time.monotonic() - started, 2)
        started = time.monotonic()

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEED_LOCK])
        cursor.execute(
            """SELECT count(*) FILTER (WHERE legal_basis = %s),
                      count(*) FILTER (WHERE legal_basis = %s
                                       AND created_at::date = current_date),
                      count(*) FILTER (WHERE legal_basis <> %s)
               FROM rights_rightsallocation""", [ALLOCATION_BASIS] * 3)
        present, today, others_present = cursor.fetchone()
        demo_deleted = 0
        if not keep_demo and others_present:
            cursor.execute("DELETE FROM rights_rightsallocation WHERE legal_basis <> %s",
                           [ALLOCATION_BASIS])
            demo_deleted = cursor.rowcount
            cursor.execute(
                """DELETE FROM rights_historicalrightsallocation h WHERE NOT EXISTS
                   (SELECT 1 FROM rights_rightsallocation r WHERE r.id = h.id)""")
            lap("delete_demo")
        if present == total and today == total:
            lap("check")
            return {"seeded": False, "present": present, "demo_deleted": demo_deleted,
                    "timings": timings}
        cursor.execute("DELETE FROM rights_rightsallocation WHERE legal_basis = %s",
                       [ALLOCATION_BASIS])
        lap("delete_previous")

        # The assets in code order (stable across reseeds), the CDCs and all institutions in
        # credit-code order, the grade-5 assets in code order.
        for table, select in (
            ("bench_assets", "SELECT (row_number() OVER (ORDER BY code) - 1)::bigint AS n, id, "
                             "holder_id, grade FROM catalog_dataasset"),
            ("bench_cdcs", "SELECT (row_number() OVER (ORDER BY credit_code) - 1)::bigint AS n,"
                           " id FROM accounts_institution WHERE type = 'cdc'"),
            ("bench_institutions", "SELECT (row_number() OVER (ORDER BY credit_code) - 1)::bigint"
                                   " AS n, id FROM accounts_institution"),
            ("bench_grade5", "SELECT (row_number() OVER (ORDER BY code) - 1)::bigint AS n, id, "
                             "holder_id FROM catalog_dataasset WHERE grade = 5"),
        ):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.execute(f"CREATE TEMP TABLE {table} ON COMMIT DROP AS {select}")
            cursor.execute(f"ALTER TABLE {table} ADD PRIMARY KEY (n)")
            cursor.execute(f"ANALYZE {table}")
        cursor.execute("SELECT (SELECT count(*) FROM bench_assets), (SELECT count(*) FROM "
                       "bench_cdcs), (SELECT count(*) FROM bench_institutions), "
                       "(SELECT count(*) FROM bench_grade5)")
        n_assets, n_cdcs, n_institutions, n_grade5 = cursor.fetchone()
        if not (n_assets and n_cdcs and n_grade5):
            raise SystemExit("The world has no assets, CDCs or grade-5 assets to allocate.")
        lap("candidates")

        # Holds: the holder's, for every asset but HOLDLESS_PERCENT; bands of the asset's
        # hundreds: 1 % expired, 0.1 % ending within 30 days, 1.8 % in one to five years,
        # the rest open-ended; 0.1 % suspended, 0.1 % ended.
        band = "((a.n / 100) %% 1000)"
        cursor.execute(
            f"""INSERT INTO rights_rightsallocation (party_kind, party_institution_id,
                    party_description, "right", legal_basis, purpose, scope, valid_from,
                    valid_until, status, created_at, updated_at, asset_id, created_by_id)
                SELECT 'institution', a.holder_id, '', 'hold', %(basis)s, '', '',
                       {VALID_FROM.format(v="a.n")},
                       {END_BAND.format(b=f"(CASE WHEN {band} < 10 THEN 0 WHEN {band} < 11 "
                                          f"THEN 1 WHEN {band} < 29 THEN 2 ELSE 20 END)",
                                        v="a.n")},
                       CASE {band} WHEN 998 THEN 'suspended' WHEN 999 THEN 'ended'
                            ELSE 'active' END,
                       now(), now(), a.id, NULL
                FROM bench_assets a WHERE a.n %% 100 >= {HOLDLESS_PERCENT}
                ORDER BY a.n LIMIT %(total)s""",
            {"basis": ALLOCATION_BASIS, "total": total})
        holds = cursor.rowcount
        lap("holds")

        # The other kinds, slot by slot (see OTHER_KINDS).
        cursor.execute(
            f"""WITH slots AS (
                    SELECT s, s %% 20 AS k, s / 20 AS v FROM generate_series(0, %(others)s - 1) s),
                picked AS (
                    SELECT sl.*, CASE WHEN sl.k = 18 THEN g.id ELSE a.id END AS asset_id,
                           CASE WHEN sl.k = 18 THEN g.holder_id ELSE a.holder_id END AS holder_id,
                           c.id AS cdc_id, i.id AS other_id, (sl.v %% 50) AS band
                    FROM slots sl
                    JOIN bench_assets a ON a.n = (sl.s * {STRIDE} + 17) %% %(n_assets)s
                    JOIN bench_grade5 g ON g.n = (sl.v * 13) %% %(n_grade5)s
                    JOIN bench_cdcs c ON c.n = (sl.v * 7) %% %(n_cdcs)s
                    JOIN bench_institutions i ON i.n = (sl.v * 31) %% %(n_institutions)s),
                shaped AS (
                    SELECT *,
                        CASE WHEN k BETWEEN 6 AND 10 THEN 'data_subjects' ELSE 'institution' END
                            AS party_kind,
                        CASE WHEN k BETWEEN 6 AND 10 THEN NULL
                             WHEN k BETWEEN 11 AND 16 THEN cdc_id
                             WHEN k = 19 THEN other_id
                             ELSE holder_id END AS party_id,
                        CASE WHEN k BETWEEN 6 AND 9 THEN (ARRAY['know', 'access', 'copy',
                                 'correct', 'delete', 'withdraw_consent'])[1 + v %% 6]
                             WHEN k IN (16, 17, 18) THEN 'product_operate'
                             ELSE 'process_use' END AS right_,
                        CASE WHEN k IN (11, 12, 13, 15, 16) THEN '传染病监测预警与疫情分析'
                             WHEN k = 19 THEN '多中心临床研究'
                             ELSE '' END AS purpose_,
                        CASE WHEN k = 15 THEN NULL
                             WHEN k IN (11, 12, 13, 14, 16)
                             THEN {END_BAND.format(b="least(band, 19)", v="v")}
                             ELSE {END_BAND.format(b="band", v="v")} END AS until_
                    FROM picked)
                INSERT INTO rights_rightsallocation (party_kind, party_institution_id,
                    party_description, "right", legal_basis, purpose, scope, valid_from,
                    valid_until, status, created_at, updated_at, asset_id, created_by_id)
                SELECT party_kind, party_id,
                       CASE WHEN party_kind = 'data_subjects' THEN '本机构就诊患者' ELSE '' END,
                       right_, %(basis)s, purpose_, '', {VALID_FROM.format(v="v")}, until_,
                       CASE v %% 200 WHEN 198 THEN 'suspended' WHEN 199 THEN 'ended'
                            ELSE 'active' END,
                       now(), now(), asset_id, NULL
                FROM shaped ORDER BY s""",
            {"basis": ALLOCATION_BASIS, "others": total - holds, "n_assets": n_assets,
             "n_grade5": n_grade5, "n_cdcs": n_cdcs, "n_institutions": n_institutions})
        others = cursor.rowcount
        lap("others")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) rights_rightsallocation")
    lap("vacuum_analyze")
    return {"seeded": True, "present": holds + others, "holds": holds, "others": others,
            "demo_deleted": demo_deleted, "timings": timings,
            "total_seconds": round(sum(timings.values()), 2)}


def allocation_summary() -> dict:
    """What the allocation table holds, in the terms of the review's rules."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(*), count(*) FILTER (WHERE r.status = 'active'),
                      count(*) FILTER (WHERE "right" = 'hold'),
                      count(*) FILTER (WHERE party_kind = 'data_subjects'),
                      count(*) FILTER (WHERE i.type = 'cdc'),
                      count(*) FILTER (WHERE valid_until < current_date),
                      count(*) FILTER (WHERE valid_until BETWEEN current_date
                                       AND current_date + 30),
                      count(*) FILTER (WHERE "right" = 'product_operate' AND a.grade = 5),
                      (SELECT count(*) FROM catalog_dataasset x WHERE x.status <> 'draft'
                       AND NOT EXISTS (SELECT 1 FROM rights_rightsallocation h
                                       WHERE h.asset_id = x.id AND h."right" = 'hold'))
               FROM rights_rightsallocation r
               JOIN catalog_dataasset a ON a.id = r.asset_id
               LEFT JOIN accounts_institution i ON i.id = r.party_institution_id""")
        keys = ["total", "active", "hold", "data_subjects", "cdc", "past_end",
                "ending_within_30_days", "grade5_product", "reviewed_assets_without_hold"]
        return dict(zip(keys, cursor.fetchone(), strict=True))


def clear_runs() -> dict:
    """Empty the findings, runs, chunks and volume snapshots (this database's only)."""
    from django.db import connection

    from inventory.models import Finding, Run, RunChunk, VolumeSnapshot

    tables = [m._meta.db_table for m in (Finding, RunChunk, VolumeSnapshot, Run)]
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {Finding._meta.db_table}")
        findings = cursor.fetchone()[0]
        cursor.execute(f"TRUNCATE {', '.join(tables)}")
    return {"findings_deleted": findings, "seconds": round(time.monotonic() - started, 2)}


# --- One worker, one run ---------------------------------------------------------------------


def _proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in kB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _sep, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0])
    return found


def _proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Worker:
    """One ``celery worker --pool=solo`` process on a queue of its own."""

    def __init__(self, database: str, queue: str, chunk_size: int | None, log: Path):
        env = {**os.environ,
               "HDC_DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
               "HDC_REDIS_URL": REDIS_URL, "HDC_CELERY_QUEUE": queue,
               # Production settings (no query log); the worker serves no pages.
               "HDC_DEBUG": "0", "HDC_SECRET_KEY": "bench-only",
               "HDC_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend"}
        if chunk_size:
            env["HDC_INVENTORY_CHUNK_SIZE"] = str(chunk_size)
        self.name = f"{queue}@{socket.gethostname()}"
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
                 "--concurrency=1", "-Q", queue, "-n", self.name, "--without-gossip",
                 "--without-mingle", "--without-heartbeat", "--loglevel=INFO"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        started = time.monotonic()
        while not self.ping(1.0):
            if self.process.poll() is not None or time.monotonic() - started > 90:
                self.stop()
                raise SystemExit(f"The worker did not start; see {log}")
        self.ready_seconds = round(time.monotonic() - started, 1)

    @property
    def pid(self) -> int:
        return self.process.pid

    def ping(self, timeout: float) -> bool:
        from config.celery import app

        return bool(app.control.ping(destination=[self.name], timeout=timeout))

    def memory(self) -> dict[str, int]:
        return _proc_status(self.pid)

    def cpu(self) -> float:
        return _proc_cpu(self.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # warm shutdown
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def forget_queue(queue: str) -> None:
    """Remove the queue and its bindings from Redis (each run of this script has its own)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")


def measure_run(kind: str, label: str, args, queue: str, log: Path) -> dict:
    """Start a fresh worker, one nationwide run of ``kind`` through it, and what it took."""
    from django.db import transaction

    from inventory.choices import RunStatus
    from inventory.models import Run
    from inventory.services import start_run

    worker = Worker(args.database, queue, args.chunk_size, log)
    try:
        idle = worker.memory()
        cpu_before = worker.cpu()
        load_before = os.getloadavg()
        started = time.perf_counter()
        with transaction.atomic():
            run, _started = start_run(kind, None)
        # The task goes to Redis when the transaction commits.
        while True:
            state = Run.objects.filter(pk=run.pk).values_list("status", flat=True).get()
            if state in (RunStatus.SUCCEEDED, RunStatus.FAILED):
                break
            if worker.process.poll() is not None:
                raise SystemExit(f"The worker died; see {log}")
            time.sleep(0.2)
        finished = time.perf_counter() - started
        while not worker.ping(2.0):  # busy until it has sent the owners' notifications
            pass
        until_idle = time.perf_counter() - started
        memory = worker.memory()
        cpu = worker.cpu() - cpu_before
    finally:
        worker.stop()
    run.refresh_from_db()
    chunk_starts = sorted(run.chunks.values_list("finished_at", flat=True))
    # A chunk's finished_at is the database's clock when it began its work (its "now").
    edges = [*chunk_starts, run.finished_at]
    chunk_seconds = [(b - a).total_seconds() for a, b in zip(edges, edges[1:], strict=False)]
    result = {
        "kind": kind, "label": label, "run": run.pk, "status": run.status, "error": run.error,
        "chunk_size": args.chunk_size or _chunk_size(), "assets": run.assets_total,
        "chunks": run.chunks_total, "chunks_failed": run.chunks_failed,
        "wall_seconds": round(finished, 2), "until_idle_seconds": round(until_idle, 2),
        "run_seconds": round((run.finished_at - run.started_at).total_seconds(), 2),
        "plan_seconds": round((chunk_starts[0] - run.started_at).total_seconds(), 2)
        if chunk_starts else None,
        "chunk_seconds_median": round(statistics.median(chunk_seconds), 2)
        if chunk_seconds else None,
        "chunk_seconds_max": round(max(chunk_seconds), 2) if chunk_seconds else None,
        "worker_ready_seconds": worker.ready_seconds,
        "worker_idle_rss_mb": round(idle["VmRSS"] / 1024, 1),
        "worker_peak_rss_mb": round(memory["VmHWM"] / 1024, 1),
        "worker_cpu_seconds": round(cpu, 1),
        "load_before": load_before, "load_after": os.getloadavg(),
        "counts": run.counts,
    }
    print(f"  {kind:<14} {label:<7} {result['wall_seconds']:>7.1f} s wall "
          f"(run {result['run_seconds']:.1f} s, {result['chunks']} chunks, plan "
          f"{result['plan_seconds']} s), worker CPU {result['worker_cpu_seconds']} s, peak RSS "
          f"{result['worker_peak_rss_mb']} MB; {_findings(run.counts)}", flush=True)
    return result


def _chunk_size() -> int:
    from django.conf import settings

    return settings.INVENTORY_CHUNK_SIZE


def _findings(counts: dict) -> str:
    return ", ".join(f"{rule} {c['found']:,}" + (f" (+{c['new']:,})" if c.get("new") else "")
                     + (f" (-{c['resolved']:,})" if c.get("resolved") else "")
                     for rule, c in sorted(counts.items()))


# --- One SQL pass for comparison -------------------------------------------------------------

PASSES = [
    ("catalog_dataasset: count the registered assets (seq scan, 1 process)",
     "SELECT count(*) FROM catalog_dataasset WHERE status = 'registered'", 0),
    ("catalog_dataasset: the same with 2 parallel workers",
     "SELECT count(*) FROM catalog_dataasset WHERE status = 'registered'", 2),
    ("rights_rightsallocation: count the active allocations (seq scan, 1 process)",
     "SELECT count(*) FROM rights_rightsallocation WHERE status = 'active'", 0),
    ("allocations ⋈ reviewed assets (hash join, 1 process)",
     "SELECT count(*) FROM rights_rightsallocation r JOIN catalog_dataasset a "
     "ON a.id = r.asset_id WHERE r.status = 'active' AND a.status <> 'draft'", 0),
]


def sql_passes(runs: int) -> list[dict]:
    """Each pass timed directly (median of ``runs``, after one warm-up) and explained, with
    index scans off so that it reads the whole table as a run must."""
    from django.db import connection, transaction

    found = []
    for name, sql, parallel in PASSES:
        with transaction.atomic(), connection.cursor() as cursor:
            for setting in ("enable_indexscan", "enable_bitmapscan", "enable_indexonlyscan"):
                cursor.execute(f"SET LOCAL {setting} = off")
            cursor.execute(f"SET LOCAL max_parallel_workers_per_gather = {parallel}")
            cursor.execute(sql)
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                cursor.execute(sql)
                rows = cursor.fetchone()[0]
                times.append(time.perf_counter() - started)
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
        explain = re.search(r"Execution Time: ([\d.]+) ms", plan)
        found.append({"name": name, "sql": sql, "parallel_workers": parallel, "rows": rows,
                      "seconds": round(statistics.median(times), 3),
                      "explain_seconds": round(float(explain.group(1)) / 1000, 3),
                      "plan": plan})
        print(f"  {name}: {found[-1]['seconds']:.2f} s ({rows:,} rows)", flush=True)
    return found


# --- Profile: the engine in this process, every statement timed ------------------------------


class StatementTimer:
    """A Django execute wrapper summing the time of each statement, by what it is."""

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.rows: dict[str, int] = defaultdict(int)

    @staticmethod
    def label(sql: str, params) -> str:
        head = " ".join(sql.split())[:120]
        if head.startswith("INSERT INTO inventory_finding") and params:
            return f"upsert {params[0]}"
        if head.startswith("INSERT INTO inventory_volumesnapshot"):
            return "volume snapshots"
        if "access_assetusergrant" in head or "access_assetgroupgrant" in head:
            return "revocation: " + head.split()[0].lower() + " grants"
        if head.startswith("INSERT INTO \"audit_auditevent\""):
            return "revocation: audit events"
        if head.startswith("INSERT INTO \"inventory_finding\""):
            return "revocation: resolved findings"
        if "inventory_finding" in head and "GROUP BY" in " ".join(sql.split()):
            return "chunk counts"
        table = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', head)
        return f"{head.split()[0].lower()} {table.group(1) if table else ''}".strip()

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            key = self.label(sql, params)
            self.seconds[key] += time.perf_counter() - started
            self.calls[key] += 1
            rowcount = getattr(context.get("cursor"), "rowcount", -1)
            if rowcount and rowcount > 0:
                self.rows[key] += rowcount


def profile(kind: str) -> dict:
    """One run of ``kind`` worked here, chunk by chunk, every statement timed."""
    from django.db import connection

    from inventory import engine
    from inventory.models import Run

    run = Run.objects.create(kind=kind, scope=None)
    timer = StatementTimer()
    # COMMIT does not pass the execute wrapper: time it apart (deferred foreign-key checks
    # run there).
    commit = connection._commit

    def timed_commit():
        began = time.perf_counter()
        try:
            return commit()
        finally:
            timer.seconds["COMMIT"] += time.perf_counter() - began
            timer.calls["COMMIT"] += 1

    connection._commit = timed_commit
    started = time.perf_counter()
    try:
        with connection.execute_wrapper(timer):
            chunks = engine.plan(run.pk)
            planned = time.perf_counter() - started
            for chunk_id in chunks:
                engine.work_chunk(chunk_id)
            engine.finish(run.pk)
    finally:
        del connection._commit
    total = time.perf_counter() - started
    timer.seconds["(Python and round trips)"] = total - sum(timer.seconds.values())
    rows = sorted(timer.seconds.items(), key=lambda item: -item[1])
    print(f"\n{kind}: {total:.1f} s in this process ({len(chunks)} chunks, plan {planned:.1f} s)")
    for key, seconds in rows:
        print(f"  {seconds:8.2f} s  {timer.calls[key]:>6} ×  {timer.rows.get(key, 0):>9,} rows"
              f"  {key}")
    return {"kind": kind, "run": run.pk, "seconds": round(total, 2), "chunks": len(chunks),
            "plan_seconds": round(planned, 2),
            "statements": [{"what": key, "seconds": round(seconds, 3),
                            "calls": timer.calls[key], "rows": timer.rows.get(key, 0)}
                           for key, seconds in rows]}


# --- Reporting -------------------------------------------------------------------------------


def markdown(results: list[dict], passes: list[dict], context: dict) -> str:
    """The README's table of these results."""
    env = context["environment"]
    lines = [
        f"{context['date']}, commit {env['git_commit']}, {env['postgres'].split(' on ')[0]}, "
        f"{env['cpus']} cores, `work_mem` {env['work_mem']}, `shared_buffers` "
        f"{context['shared_buffers']}, one worker (`--pool=solo`), chunks of "
        f"{results[0]['chunk_size']:,} assets; load average before "
        f"{context['load_before'][0]:.1f} (`results/{context['json']}`).",
        "",
        "| run | assets | chunks | wall s | run s | plan s | chunk s (median / max) "
        "| worker CPU s | worker peak RSS MB | findings | load after |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        found = sum(c["found"] for c in r["counts"].values())
        lines.append(
            f"| {r['kind'].replace('_', ' ')} · {r['label']} | {r['assets']:,} | {r['chunks']} "
            f"| {r['wall_seconds']:.1f} | {r['run_seconds']:.1f} | {r['plan_seconds']:.1f} "
            f"| {r['chunk_seconds_median']:.1f} / {r['chunk_seconds_max']:.1f} "
            f"| {r['worker_cpu_seconds']:.1f} | {r['worker_peak_rss_mb']:.0f} "
            f"(idle {r['worker_idle_rss_mb']:.0f}) | {found:,} | {r['load_after'][0]:.1f} |")
    lines += ["", "| one SQL pass | rows | s | EXPLAIN s |", "|---|---:|---:|---:|"]
    for p in passes:
        lines.append(f"| {p['name']} | {p['rows']:,} | {p['seconds']:.2f} "
                     f"| {p['explain_seconds']:.2f} |")
    lines += ["", "Findings by rule (found; new in the first run, resolved in the repeat):", ""]
    rules = sorted({rule for r in results for rule in r["counts"]})
    header = results
    lines.append("| rule | " + " | ".join(f"{r['kind'].replace('_', ' ')} · {r['label']}"
                                           for r in header) + " |")
    lines.append("|---|" + "---:|" * len(header))
    for rule in rules:
        cells = []
        for r in header:
            c = r["counts"].get(rule)
            cells.append("–" if c is None else f"{c['found']:,}"
                         + (f" (+{c['new']:,})" if c.get("new") else "")
                         + (f" (−{c['resolved']:,})" if c.get("resolved") else ""))
        lines.append(f"| {rule} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_readme(block: str) -> None:
    text = README.read_text()
    start, end = MARKERS
    if start not in text or end not in text:
        text = text.rstrip("\n") + f"\n\n{start}\n{end}\n"
    before, rest = text.split(start, 1)
    _old, after = rest.split(end, 1)
    README.write_text(f"{before}{start}\n{block}\n{end}{after}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assets", type=int, default=1_000_000)
    parser.add_argument("--allocations", type=int, default=1_000_000)
    parser.add_argument("--grants", type=int, default=100_000,
                        help="Explicit user grants, as scoping.py makes them.")
    parser.add_argument("--group-grants", type=int, default=5_000)
    parser.add_argument("--bench-users", type=int, default=2_000)
    parser.add_argument("--database", default="hdc_bench")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reuse", action="store_true",
                        help="Skip seeding when the database already has --assets assets.")
    parser.add_argument("--keep-demo-allocations", action="store_true",
                        help="Keep the allocations seed_demo made (deleted by default, so that "
                             "the review runs over exactly --allocations).")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--repeats", type=int, default=2,
                        help="Runs of each kind: the first creates the findings, the others "
                             "update them.")
    parser.add_argument("--chunk-size", type=int,
                        help="HDC_INVENTORY_CHUNK_SIZE for the worker (default: the setting).")
    parser.add_argument("--keep-findings", action="store_true",
                        help="Do not empty the findings and runs before the first run.")
    parser.add_argument("--runs", type=int, default=3, help="Timed runs of each SQL pass.")
    parser.add_argument("--build-only", action="store_true",
                        help="Build the world and the allocations, measure nothing.")
    parser.add_argument("--profile", action="store_true",
                        help="Work one run of each kind in this process, statements timed.")
    parser.add_argument("--readme", action="store_true",
                        help="Write the results table into bench/README.md.")
    args = parser.parse_args()
    kinds = [k for k in args.kinds.split(",") if k]
    if set(kinds) - set(KINDS):
        raise SystemExit(f"--kinds: {', '.join(KINDS)}")

    from scoping import _asset_count, purge_bench_rows, recreate_database, seed_grants

    queue = f"bench-inventory-{os.getpid()}"
    os.environ["HDC_REDIS_URL"] = REDIS_URL
    os.environ["HDC_CELERY_QUEUE"] = queue
    os.environ["HDC_EMAIL_BACKEND"] = "django.core.mail.backends.dummy.EmailBackend"
    if args.chunk_size:
        os.environ["HDC_INVENTORY_CHUNK_SIZE"] = str(args.chunk_size)
    ensure_database(args.database)
    existing = _asset_count(args.database)
    recreated = False
    if existing and not (args.reuse and existing == args.assets):
        recreated = recreate_database(args.database)
        if not recreated:
            purge_bench_rows(args.database)
            purge_run_rows(args.database)
    configure(args.database, facet_cache=False)
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from config.celery import app

    settings.DEBUG = False  # no query log in this process either
    app.conf.task_default_queue = queue

    prepared = prepare(args.assets, args.seed, reuse=args.reuse)
    prepared["recreated_database"] = recreated
    call_command("migrate", verbosity=0)  # the inventory and rights tables
    grants = seed_grants(SimpleNamespace(grants=args.grants, group_grants=args.group_grants,
                                         bench_users=args.bench_users))
    print(f"Grants: {'seeded' if grants['seeded'] else 'already there'} {grants['present']}",
          flush=True)
    allocations = seed_allocations(args.allocations, keep_demo=args.keep_demo_allocations)
    print(f"Allocations: {'seeded' if allocations['seeded'] else 'already there'} "
          f"{allocations['present']:,} (seed_demo's deleted: {allocations['demo_deleted']:,}) "
          f"{allocations['timings']}", flush=True)
    summary = allocation_summary()
    print(f"  {summary}", flush=True)
    if args.build_only:
        return 0

    env = environment(args.database)
    with connection.cursor() as cursor:
        cursor.execute("SHOW shared_buffers")
        shared_buffers = cursor.fetchone()[0]
    cleared = None if args.keep_findings else clear_runs()
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")

    if args.profile:
        profiles = []
        for kind in kinds:
            for repeat in range(args.repeats):
                print(f"\n[{kind} · {'first' if repeat == 0 else 'repeat'}]", flush=True)
                profiles.append(profile(kind))
        path = RESULTS / f"inventory-profile-{stamp}.json"
        path.write_text(json.dumps({"environment": env, "profiles": profiles},
                                   ensure_ascii=False, indent=1, default=str))
        print(f"\nWritten {path.relative_to(ROOT)}")
        return 0

    log = RESULTS / f"inventory-worker-{stamp}.log"
    load_before = os.getloadavg()
    results = []
    print(f"Runs (one worker, queue {queue}, log {log.relative_to(ROOT)}):", flush=True)
    try:
        for kind in kinds:
            for repeat in range(args.repeats):
                results.append(measure_run(kind, "first" if repeat == 0 else "repeat", args,
                                           queue, log))
    finally:
        forget_queue(queue)
    print("One SQL pass over the same tables:", flush=True)
    passes = sql_passes(args.runs)

    path = RESULTS / f"inventory-{stamp}.json"
    context = {"date": datetime.now(UTC).strftime("%d %b %Y"), "environment": env,
               "shared_buffers": shared_buffers, "load_before": load_before,
               "json": path.name}
    path.write_text(json.dumps({
        **context, "prepared": prepared, "grant_seeding": grants,
        "allocation_seeding": allocations, "allocations": summary, "cleared": cleared,
        "runs": results, "sql_passes": passes,
    }, ensure_ascii=False, indent=1, default=str))
    block = markdown(results, passes, context)
    print()
    print(block)
    slow = [r for r in results if r["wall_seconds"] > GOAL_SECONDS]
    print(f"\nGoal: under {GOAL_SECONDS} s each — "
          + ("met." if not slow else "missed by " + ", ".join(
              f"{r['kind']} · {r['label']} ({r['wall_seconds']:.0f} s)" for r in slow)))
    if args.readme:
        write_readme(block)
        print(f"Table written to {README.relative_to(ROOT)}")
    print(f"Written {path.relative_to(ROOT)}")
    return 0


def purge_run_rows(database: str) -> None:
    """Before reseeding in place: the findings and allocations protect their assets."""
    import psycopg

    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{database}") as conn:
        if conn.execute("SELECT to_regclass('inventory_finding')").fetchone()[0] is not None:
            conn.execute("TRUNCATE inventory_finding, inventory_runchunk, "
                         "inventory_volumesnapshot, inventory_run")
        if conn.execute("SELECT to_regclass('rights_rightsallocation')").fetchone()[0]:
            conn.execute("DELETE FROM rights_rightsallocation WHERE legal_basis = %s",
                         [ALLOCATION_BASIS])


if __name__ == "__main__":
    sys.exit(main())
