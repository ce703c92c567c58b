"""Runs worked by a real Celery worker, against the real broker (Redis) and the real test
database (PostgreSQL): end to end for both kinds of run, and a worker killed in the middle of
a chunk whose message comes back after the visibility timeout, with nothing lost or doubled.

Each test starts ``celery worker`` as a separate process on a queue of this module's own,
pointed at the database this test process uses; the test process sends to the same queue.
Eager mode would prove nothing here: what is tested is the message's life (sent after commit,
acknowledged late, restored when its worker dies) and the chunks' transactions across
processes.

How a dead worker's message comes back (kombu's Redis transport, ``kombu/transport/redis.py``):
a message handed to a worker is kept in the ``unacked`` hash (its delivery time in
``unacked_index``) until it is acknowledged. Nothing restores it when the worker dies; a
*consuming* worker puts back every entry older than ``visibility_timeout`` when it sweeps:
once when its event loop starts (``on_poll_init``), then from a timer every
``unacked_restore_interval`` seconds (10) that scans Redis only on every
``unacked_restore_throttle``-th call (10): about every 100 seconds. So the replacement worker
is started once the killed message is older than the visibility timeout, and its start-up
sweep must bring it back (started at once, it would get it about 100 seconds later).

The kill is tried with both pools. The solo pool runs a task inside the event loop, where an
early acknowledgement (``acks_late=False``) waits in ``hub.call_soon`` until the task ends: a
killed solo worker never loses its message, whatever ``acks_late`` says. Only under prefork
(the production pool) does this test tell a late acknowledgement from an early one.
"""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.contrib.auth.models import Permission
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from access.models import AssetUserGrant
from audit.models import AuditAction, AuditEvent
from catalog.choices import AssetStatus, SharingType
from catalog.models import DataAsset
from config.celery import app
from inventory import services
from inventory.choices import ChunkState, FindingRule, FindingStatus, RunKind, RunStatus, Severity
from inventory.models import Finding, Run, VolumeSnapshot
from rights.choices import AllocationStatus, PartyKind, Right
from rights.models import RightsAllocation
from tests.factories import DataAssetFactory, InstitutionFactory, UserFactory, region
from tests.helpers import reseed

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

VISIBILITY_TIMEOUT = 3  # seconds: the worker's broker visibility timeout
CHUNK_SIZE = 50  # assets per chunk, in the worker
RUN_TIMEOUT = 60  # seconds a run may take before the test gives up
BASE_DIR = Path(settings.BASE_DIR)
STALE_UPDATE = timedelta(days=400)  # far beyond a daily asset's interval and grace


# --- The broker and the worker -------------------------------------------------------------


def _unacked(client: redis.Redis, queue: str) -> dict[str, dict]:
    """The messages of ``queue`` delivered to a worker and not acknowledged, by delivery tag:
    {tag: {"task", "id", "args", "delivered_at"}} (kombu's ``unacked`` hash and index)."""
    found = {}
    for tag, raw in client.hgetall("unacked").items():
        payload, _exchange, routing_key = json.loads(raw)
        if routing_key != queue:
            continue
        body = json.loads(base64.b64decode(payload["body"]))
        found[tag.decode()] = {
            "task": payload["headers"]["task"], "id": payload["headers"]["id"],
            "args": body[0], "delivered_at": client.zscore("unacked_index", tag),
        }
    return found


def _forget(client: redis.Redis, queue: str) -> None:
    """Remove every trace of ``queue`` from the broker: its messages, delivered or not."""
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(queue)
    for tag in _unacked(client, queue):
        client.hdel("unacked", tag)
        client.zrem("unacked_index", tag)
    client.delete(f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    # The workers' remote-control bindings, which a killed worker leaves behind.
    pidbox = "_kombu.binding.celery.pidbox"
    ours = [m for m in client.smembers(pidbox) if queue.encode() in m]
    if ours:
        client.srem(pidbox, *ours)


@pytest.fixture(scope="module")
def broker():
    """A queue of this module's own on the test's Redis, which this process sends to."""
    if not settings.REDIS_URL:
        pytest.skip("needs Redis (HDC_REDIS_URL=redis://…)")
    queue = f"inventory-test-{uuid.uuid4().hex[:12]}"
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    previous = app.conf.task_default_queue, app.conf.task_always_eager
    app.conf.task_default_queue, app.conf.task_always_eager = queue, False
    _forget(client, queue)
    try:
        yield SimpleNamespace(queue=queue, redis=client)
    finally:
        app.conf.task_default_queue, app.conf.task_always_eager = previous
        _forget(client, queue)
        client.close()


def _database_url() -> str:
    """The URL of the database this process uses (pytest-django's test_<name>)."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{auth}@{db['HOST']}{port}/{quote(db['NAME'], safe='')}"


class Worker:
    """``celery worker`` in a process group of its own, logging to a file."""

    def __init__(self, queue: str, log: Path, pool: str = "solo"):
        self.queue, self.log_path = queue, log
        self.name = f"{queue}@localhost"  # one at a time: the killed one's successor
        env = {
            **os.environ,
            "HDC_DATABASE_URL": _database_url(),
            "HDC_REDIS_URL": settings.CELERY_BROKER_URL,
            "HDC_CELERY_QUEUE": queue,
            "HDC_CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            "HDC_INVENTORY_CHUNK_SIZE": str(CHUNK_SIZE),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "PYTHONUNBUFFERED": "1",
        }
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker", f"--pool={pool}",
            "--concurrency=1", "-Q", queue, "-n", self.name, "--without-gossip",
            "--without-mingle", "--without-heartbeat", "-l", "info",
        ]
        with open(log, "wb") as out:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                command, env=env, cwd=BASE_DIR, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self, timeout: float = 30) -> None:
        wait_for(lambda: f"{self.name} ready." in self.log, timeout, "the worker to be ready",
                 self)

    def kill(self) -> None:
        """SIGKILL the whole process group: no warm shutdown, nothing acknowledged."""
        if self.alive:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def wait_for(condition, timeout: float, what: str, worker: Worker | None = None,
             every: float = 0.05):
    """Poll ``condition`` until it is truthy; fail (with the worker's log) after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if worker is not None and not worker.alive:
            pytest.fail(f"The worker died while waiting for {what}:\n{worker.log[-4000:]}")
        if time.monotonic() > deadline:
            tail = f":\n{worker.log[-4000:]}" if worker is not None else ""
            pytest.fail(f"Timed out after {timeout} s waiting for {what}{tail}")
        time.sleep(every)


def _other_backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


@pytest.fixture
def start_worker(broker, transactional_db, tmp_path):
    """Start a worker on the module's queue (ready, unless ``wait=False``); all are killed
    at the end, and their database sessions gone before the tables are emptied."""
    workers: list[Worker] = []

    def start(*, pool: str = "solo", wait: bool = True) -> Worker:
        worker = Worker(broker.queue, tmp_path / f"worker-{len(workers)}.log", pool)
        workers.append(worker)
        if wait:
            worker.wait_ready()
        return worker

    yield start
    for worker in workers:
        worker.kill()
    # A worker killed while it swept for messages to restore leaves its lock held for five
    # minutes, and the next worker's start-up sweep would do nothing.
    broker.redis.delete("unacked_mutex")
    deadline = time.monotonic() + 10
    while _other_backends() and time.monotonic() < deadline:
        time.sleep(0.05)
    if _other_backends():  # they would block the tables being emptied: end them, and say so
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                           "datname = current_database() AND pid <> pg_backend_pid()")
        pytest.fail("The killed workers' database sessions outlived them")


# --- The seeded tables ---------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _seeded(transactional_db):
    reseed()


# --- Worlds whose findings are known by construction --------------------------------------


def inventory_faults(i: int) -> tuple[dict, set[str]]:
    """Asset i's ledger fields and the inventory rules it breaks, chosen by i."""
    fields: dict = {}
    rules: set[str] = set()
    # One fault of grade at most, so the grade rules do not mask each other.
    if i % 3 == 0:
        fields.update(grade=4, stored_in_country=False, storage_location="境外云 us-east-1")
        rules.add(FindingRule.STORED_ABROAD)
    elif i % 11 == 0:
        fields.update(grade=2)  # its category (health status) asks for at least 3
        rules.add(FindingRule.GRADE_BELOW_CATEGORY)
    elif i % 13 == 0:
        fields.update(grade=4, sharing_type=SharingType.UNCONDITIONAL, sharing_condition="")
        rules.add(FindingRule.SHARING_ABOVE_GRADE)
    if i % 4 == 0:
        fields["last_data_update"] = timezone.now() - STALE_UPDATE
        rules.add(FindingRule.STALE)
    if i % 5 == 0:
        fields.update(responsible_phone="", responsible_email="")
        rules.add(FindingRule.MISSING_FIELDS)
    if i % 7 == 0:
        fields["responsible_person"] = ""
        rules.add(FindingRule.RESPONSIBLE_GONE)
    return fields, rules


def bulk_assets(specs: list[tuple[object, dict]]) -> list[DataAsset]:
    """Create the assets (holder, fields) in bulk, with the derived fields save() would set."""
    assets = []
    for holder, fields in specs:
        asset = DataAssetFactory.build(holder=holder, **fields)
        asset.refresh_derived_fields(holder_region=holder.region)
        assets.append(asset)
    return DataAsset.objects.bulk_create(assets, batch_size=1000)


def inventory_world(n: int, holder, *, inactive_holder=None, outside=None, jumps=True):
    """n registered assets of ``holder`` (every 10th of ``inactive_holder``), plus, when
    given, the same faults on assets of ``outside`` (out of scope) and on drafts (unchecked).
    Returns the assets in scope and the expected {(asset id, rule, subject)}."""
    specs, rules_of = [], []
    for i in range(n):
        fields, rules = inventory_faults(i)
        owner = holder
        if inactive_holder is not None and i % 10 == 9:
            owner = inactive_holder
            rules = rules | {FindingRule.HOLDER_INACTIVE}
        specs.append((owner, fields))
        rules_of.append(rules)
    extra = []
    for i in range(10):  # assets this run does not check, with every fault but a jump
        fields, _rules = inventory_faults(i * 3 * 4 * 5 * 7)
        if outside is not None:
            extra.append((outside, fields))
        extra.append((holder, {**fields, "status": AssetStatus.DRAFT}))
    assets = bulk_assets(specs)
    bulk_assets(extra)
    expected = {(a.pk, rule, "") for a, rules in zip(assets, rules_of, strict=True)
                for rule in rules}
    if jumps:  # what an earlier run saw: a tenth of today's records
        seen = timezone.now() - timedelta(days=30)
        jumped = [a for i, a in enumerate(assets) if i % 8 == 1]
        VolumeSnapshot.objects.bulk_create([
            VolumeSnapshot(asset=a, record_count=a.record_count // 10 - 1,
                           storage_bytes=None, seen_at=seen) for a in jumped])
        expected |= {
            (a.pk, FindingRule.VOLUME_JUMP, f"{a.record_count // 10 - 1}>{a.record_count} ->-")
            for a in jumped}
    return assets, expected


def findings() -> list[tuple[int, str, str]]:
    """Every finding row, current or not, as (asset id, rule, subject)."""
    return list(Finding.objects.values_list("asset_id", "rule", "subject"))


def counts_of(expected: set[tuple[int, str, str]]) -> dict:
    """A first run's counts: every finding new, nothing resolved."""
    per_rule: dict[str, int] = {}
    for _asset, rule, _subject in expected:
        per_rule[str(rule)] = per_rule.get(str(rule), 0) + 1
    return {rule: {"found": n, "new": n, "resolved": 0} for rule, n in per_rule.items()}


def start(kind: str, scope, user) -> Run:
    """Start a run as a page does: inside a transaction, sent to the broker on commit."""
    with transaction.atomic():
        run, started = services.start_run(kind, scope, user=user)
    assert started
    return run


def wait_finished(run: Run, worker: Worker, timeout: float = RUN_TIMEOUT) -> Run:
    def finished():
        run.refresh_from_db()
        return run.status not in (RunStatus.QUEUED, RunStatus.RUNNING)

    wait_for(finished, timeout, f"run {run.pk} to finish", worker, every=0.1)
    return run


def assert_worked_once(run: Run, assets_in_scope: int, redelivered: int = 0) -> None:
    """Every chunk done; each delivered once, but for ``redelivered`` chunks delivered twice
    (a killed worker's chunk, counted when its delivery began)."""
    chunks = -(-assets_in_scope // CHUNK_SIZE)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert (run.assets_total, run.assets_done) == (assets_in_scope, assets_in_scope)
    assert (run.chunks_total, run.chunks_done, run.chunks_failed) == (chunks, chunks, 0)
    states = run.chunks.order_by().values_list("state", "attempts").annotate(n=Count("id"))
    expected = [(ChunkState.DONE, 1, chunks - redelivered)]
    if redelivered:
        expected.append((ChunkState.DONE, 2, redelivered))
    assert sorted(states) == expected


# --- End to end ----------------------------------------------------------------------------


def test_an_inventory_run_end_to_end(start_worker, steward, hospital, far_hospital):
    worker = start_worker(wait=False)  # starting takes seconds: build the world meanwhile
    closed = InstitutionFactory(name="已注销的卫生院", region=region("330106"), is_active=False)
    assets, expected = inventory_world(
        120, hospital, inactive_holder=closed, outside=far_hospital)
    assert {rule for _a, rule, _s in expected} == {
        FindingRule.STORED_ABROAD, FindingRule.GRADE_BELOW_CATEGORY,
        FindingRule.SHARING_ABOVE_GRADE, FindingRule.STALE, FindingRule.MISSING_FIELDS,
        FindingRule.RESPONSIBLE_GONE, FindingRule.HOLDER_INACTIVE, FindingRule.VOLUME_JUMP,
    }  # every inventory rule is exercised
    worker.wait_ready()
    run = start(RunKind.INVENTORY, region("330000"), steward)

    wait_finished(run, worker)
    assert_worked_once(run, len(assets))
    rows = findings()
    assert len(rows) == len(set(rows)) and set(rows) == expected
    assert run.counts == counts_of(expected)
    assert not Finding.objects.exclude(status=FindingStatus.OPEN).exists()
    assert set(Finding.objects.values_list("first_run", "last_run").distinct()) == {
        (run.pk, run.pk)}
    in_scope = {a.pk for a in assets}
    assert set(VolumeSnapshot.objects.filter(seen_at__gte=run.started_at)
               .values_list("asset_id", flat=True)) == in_scope
    assert "Task inventory.tasks.plan_run[" in worker.log  # the worker ran it, not this process


def allocate(asset, right=Right.HOLD, party=None, **fields) -> RightsAllocation:
    kind = PartyKind.INSTITUTION if party is not None else PartyKind.DATA_SUBJECTS
    return RightsAllocation(
        asset=asset, right=right, party_kind=kind, party_institution=party,
        party_description="" if party else "本院就诊患者", legal_basis="《数据二十条》第三条",
        valid_from=fields.pop("valid_from", timezone.localdate() - timedelta(days=400)), **fields,
    )


def test_a_rights_review_end_to_end(start_worker, steward, hospital, far_hospital):
    worker = start_worker(wait=False)
    today, now = timezone.localdate(), timezone.now()
    view = Permission.objects.get(codename="view_dataasset")
    reader, researcher = UserFactory(username="old_reader"), UserFactory(username="researcher")
    assets = bulk_assets([(hospital, {}) for _ in range(80)])
    gone = bulk_assets([(hospital, {"status": AssetStatus.DEREGISTERED})])[0]
    far = bulk_assets([(far_hospital, {})])[0]
    expected: set[tuple[int, str, str]] = set()
    allocations, revoked, kept = [], [], []
    for i, asset in enumerate(assets):
        if i % 3:
            allocations.append(allocate(asset, party=hospital))
        else:
            expected.add((asset.pk, FindingRule.NO_HOLDER, ""))
        if i % 4 == 0:
            allocations.append(allocate(asset, Right.PROCESS_USE))  # to the data subjects
        if i % 7 == 0:
            allocations.append(allocate(asset, Right.PROCESS_USE, hospital,
                                        valid_until=today - timedelta(days=2)))
        if i % 10 == 1:  # ended: no longer looked at
            allocations.append(allocate(asset, Right.PROCESS_USE, valid_until=today,
                                        status=AllocationStatus.ENDED))
    RightsAllocation.objects.bulk_create(allocations)
    for allocation in allocations:
        if allocation.status != AllocationStatus.ACTIVE:
            continue
        if allocation.right == Right.PROCESS_USE and allocation.party_institution is None:
            expected.add((allocation.asset_id, FindingRule.SUBJECT_RESOURCE_RIGHT,
                          f"allocation:{allocation.pk}"))
        elif allocation.valid_until is not None:
            expected.add((allocation.asset_id, FindingRule.ALLOCATION_EXPIRED,
                          f"allocation:{allocation.pk}"))
    for i, asset in enumerate([*assets, gone, far]):
        if i % 5 == 0 or asset in (gone, far):
            revoked.append(AssetUserGrant.objects.create(
                user=reader, permission=view, content_object=asset, reason="2024 年流调",
                expires_at=now - timedelta(hours=1)))
        if i % 6 == 0:
            kept.append(AssetUserGrant.objects.create(
                user=researcher, permission=view, content_object=asset, reason="科研",
                expires_at=now + timedelta(days=10)))
    far_grant = revoked.pop()  # out of scope: stays
    expected |= {(g.content_object_id, FindingRule.GRANT_REVOKED, f"usergrant:{g.pk}")
                 for g in revoked}
    expected |= {(g.content_object_id, FindingRule.GRANT_EXPIRING, f"usergrant:{g.pk}")
                 for g in kept}
    worker.wait_ready()
    run = start(RunKind.RIGHTS_REVIEW, region("330000"), steward)

    wait_finished(run, worker)
    assert_worked_once(run, len(assets) + 1)  # the deregistered asset is reviewed too
    rows = findings()
    assert len(rows) == len(set(rows)) and set(rows) == expected
    assert run.counts == counts_of(expected)
    # A revocation is done when it is found: its finding is resolved at once.
    assert set(Finding.objects.values_list("rule", "status").distinct()) == {
        (rule, FindingStatus.RESOLVED if rule == FindingRule.GRANT_REVOKED else FindingStatus.OPEN)
        for _asset, rule, _subject in expected}
    # The expired permissions are gone, each once in the audit trail, by the run's starter.
    remaining = set(AssetUserGrant.objects.values_list("pk", flat=True))
    assert remaining == {g.pk for g in kept} | {far_grant.pk}
    events = AuditEvent.objects.filter(action=AuditAction.GRANT_REVOKED)
    assert sorted(events.values_list("target_id", flat=True)) == sorted(
        str(g.pk) for g in revoked)
    assert set(events.values_list("actor", "before__grantee")) == {(steward.pk, "old_reader")}
    assert Finding.objects.get(subject=f"usergrant:{revoked[0].pk}").severity == Severity.INFO


# --- A worker killed in the middle of a chunk ----------------------------------------------


class Blocker(threading.Thread):
    """Holds an uncommitted finding (in its own database session) until released: a run
    writing the same finding waits on it, inside its chunk's transaction."""

    def __init__(self, **finding):
        super().__init__(daemon=True)
        self.finding, self.error = finding, None
        self.holding, self.release = threading.Event(), threading.Event()

    def run(self) -> None:
        try:
            with transaction.atomic():
                Finding.objects.create(**self.finding)
                self.holding.set()
                self.release.wait(RUN_TIMEOUT)
                transaction.set_rollback(True)
        except Exception as error:  # pragma: no cover - reported by the test
            self.error = error
        finally:
            self.holding.set()
            connection.close()


@pytest.fixture
def hold(start_worker):
    """Start a Blocker; each is released at the end (before the workers are killed)."""
    blockers: list[Blocker] = []

    def start(**finding) -> Blocker:
        blocker = Blocker(**finding)
        blockers.append(blocker)
        blocker.start()
        blocker.holding.wait(10)
        assert blocker.error is None
        return blocker

    yield start
    for blocker in blockers:
        blocker.release.set()
        blocker.join(10)


def _waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.parametrize("pool", ["solo", "prefork"])
def test_a_killed_worker_loses_and_doubles_nothing(pool, start_worker, hold, broker, steward,
                                                   hospital):
    first = start_worker(pool=pool, wait=False)
    assets, expected = inventory_world(2000, hospital)
    chunks = len(assets) // CHUNK_SIZE
    middle = chunks // 2
    # Make the worker stop in the middle chunk, half-way through its transaction: an
    # uncommitted finding it will also write (its chunk's first rules are written by then).
    earlier = Run.objects.create(kind=RunKind.RIGHTS_REVIEW, status=RunStatus.SUCCEEDED)
    target = next(a for a in assets[middle * CHUNK_SIZE:]
                  if (a.pk, FindingRule.STORED_ABROAD, "") in expected)
    blocker = hold(
        rule=FindingRule.STORED_ABROAD, severity=Severity.HIGH, asset=target,
        institution=hospital, region_id=target.region_id, first_run=earlier, last_run=earlier,
        first_seen_at=timezone.now(), last_seen_at=timezone.now(),
    )
    first.wait_ready()
    run = start(RunKind.INVENTORY, region("330000"), steward)

    def stuck_in_the_middle():
        run.refresh_from_db()
        return run.chunks_done == middle and _waiting_on_a_lock()

    wait_for(stuck_in_the_middle, RUN_TIMEOUT, "the worker to reach the middle chunk", first)
    assert run.status == RunStatus.RUNNING and run.chunks_total == chunks
    chunk = run.chunks.get(seq=middle)
    # The one message the worker holds, unacknowledged: this chunk's.
    held = _unacked(broker.redis, broker.queue)
    assert [(m["task"], m["args"]) for m in held.values()] == [
        ("inventory.tasks.work_chunk", [chunk.pk])]
    message = next(iter(held.values()))

    first.kill()
    blocker.release.set()
    blocker.join(10)
    assert blocker.error is None
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING
    assert 1 <= run.chunks_done == middle < run.chunks_total
    assert run.assets_done == middle * CHUNK_SIZE
    chunk.refresh_from_db()
    assert chunk.state == ChunkState.PENDING and chunk.attempts == 1  # begun, never done
    # Nothing of the killed chunk's transaction stayed, though some of it was written.
    assert not Finding.objects.filter(asset_id__gte=chunk.first_id,
                                      asset_id__lte=chunk.last_id).exists()
    assert set(_unacked(broker.redis, broker.queue)) == set(held)  # still waiting for a worker

    # A new worker brings the message back once it is older than the visibility timeout.
    wait_for(lambda: time.time() > message["delivered_at"] + VISIBILITY_TIMEOUT + 0.2,
             VISIBILITY_TIMEOUT + 1, "the visibility timeout to pass", every=0.1)
    second = start_worker(pool=pool)
    wait_finished(run, second)

    assert_worked_once(run, len(assets), redelivered=1)
    rows = findings()
    assert len(rows) == len(set(rows)), "a finding was written twice"
    assert set(rows) == expected
    assert run.counts == counts_of(expected)
    worked = re.search(
        rf"work_chunk\[{re.escape(message['id'])}\] succeeded in [0-9.e-]+s: (\w+)", second.log)
    assert worked is not None and worked[1] == "True", "the killed chunk's message came back"
    # Every message acknowledged in the end (the last just after it finished the run).
    wait_for(lambda: not _unacked(broker.redis, broker.queue), 10,
             "the last message to be acknowledged", second)
    assert broker.redis.llen(broker.queue) == 0
