"""A finding's life across runs: the same row while it lasts, resolved when fixed; chunks
that are worked twice, runs that overlap, chunks that fail."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from catalog.models import DataAsset
from inventory import engine
from inventory.choices import ChunkState, FindingRule, FindingStatus, RunKind, RunStatus
from inventory.models import Finding, Run
from tests.factories import DataAssetFactory, region

from .conftest import run_now


@pytest.mark.django_db
def test_a_lasting_finding_stays_one_row_and_a_fixed_one_resolves_itself(hospital, small_chunks):
    assets = [DataAssetFactory(holder=hospital, grade=4, stored_in_country=False)
              for _ in range(7)]
    first = run_now(RunKind.INVENTORY)
    assert first.chunks_total == 3
    assert first.counts[FindingRule.STORED_ABROAD] == {"found": 7, "new": 7, "resolved": 0}
    DataAsset.objects.filter(pk=assets[0].pk).update(stored_in_country=True)
    second = run_now(RunKind.INVENTORY)
    assert second.counts[FindingRule.STORED_ABROAD] == {"found": 6, "new": 0, "resolved": 1}
    rows = Finding.objects.filter(rule=FindingRule.STORED_ABROAD)
    assert rows.count() == 7  # six lasting rows plus the resolved one, nothing doubled
    lasting = rows.get(asset=assets[1])
    assert lasting.first_run == first and lasting.last_run == second
    assert lasting.first_seen_at < lasting.last_seen_at
    fixed = rows.get(asset=assets[0])
    assert fixed.status == FindingStatus.RESOLVED and fixed.resolved_at is not None
    # Broken again: a new finding, the resolved one stays as history.
    DataAsset.objects.filter(pk=assets[0].pk).update(stored_in_country=False)
    run_now(RunKind.INVENTORY)
    assert Finding.objects.filter(asset=assets[0], rule=FindingRule.STORED_ABROAD).count() == 2


@pytest.mark.django_db
def test_a_closed_finding_stays_closed_while_it_lasts(hospital, steward):
    from inventory import services

    asset = DataAssetFactory(holder=hospital, grade=4, stored_in_country=False)
    run_now(RunKind.INVENTORY)
    finding = Finding.objects.get()
    services.close(finding, "已备案的境外灾备中心，经省委网信办批准", user=steward)
    run_now(RunKind.INVENTORY)
    finding.refresh_from_db()
    assert finding.status == FindingStatus.CLOSED and Finding.objects.count() == 1
    DataAsset.objects.filter(pk=asset.pk).update(stored_in_country=True)
    run_now(RunKind.INVENTORY)
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RESOLVED


@pytest.mark.django_db
def test_a_run_resolves_only_inside_its_scope(hospital, far_hospital):
    near = DataAssetFactory(holder=hospital, grade=4, stored_in_country=False)
    far = DataAssetFactory(holder=far_hospital, grade=4, stored_in_country=False)
    run_now(RunKind.INVENTORY)
    DataAsset.objects.filter(pk__in=[near.pk, far.pk]).update(stored_in_country=True)
    zhejiang = run_now(RunKind.INVENTORY, region("330000"))
    assert zhejiang.assets_total == 1
    statuses = dict(Finding.objects.values_list("asset_id", "status"))
    assert statuses == {near.pk: FindingStatus.RESOLVED, far.pk: FindingStatus.OPEN}


@pytest.mark.django_db
def test_a_chunk_delivered_twice_is_worked_once(hospital, small_chunks):
    for _ in range(5):
        DataAssetFactory(holder=hospital, grade=4, stored_in_country=False)
    run = Run.objects.create(kind=RunKind.INVENTORY)
    chunks = engine.plan(run.pk)
    assert engine.plan(run.pk) == chunks  # planning again plans nothing new
    assert engine.work_chunk(chunks[0]) is True
    assert engine.work_chunk(chunks[0]) is False
    for chunk_id in chunks[1:]:
        engine.work_chunk(chunk_id)
    assert engine.finish(run.pk) is True and engine.finish(run.pk) is False
    run.refresh_from_db()
    assert run.assets_done == 5 and run.chunks_done == 2
    assert run.counts[FindingRule.STORED_ABROAD]["found"] == 5
    assert Finding.objects.count() == 5


@pytest.mark.django_db
def test_a_failed_chunk_fails_the_run_and_resolves_nothing(hospital, small_chunks):
    assets = [DataAssetFactory(holder=hospital, grade=4, stored_in_country=False)
              for _ in range(4)]
    run_now(RunKind.INVENTORY)
    DataAsset.objects.filter(pk__in=[a.pk for a in assets]).update(stored_in_country=True)
    run = Run.objects.create(kind=RunKind.INVENTORY)
    first, second = engine.plan(run.pk)
    engine.work_chunk(first)
    engine.fail_chunk(second, "OperationalError: the database went away")
    engine.finish(run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "1 / 2" in run.error and "went away" in run.error
    # Half the scope was not looked at: no finding may be closed on its account.
    assert not Finding.objects.filter(status=FindingStatus.RESOLVED).exists()
    assert run.chunks.get(pk=second).state == ChunkState.FAILED


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_two_overlapping_runs_at_once_double_nothing(hospital, far_hospital, settings):
    settings.INVENTORY_CHUNK_SIZE = 4
    for holder in (hospital, far_hospital):
        for _ in range(12):
            DataAssetFactory(holder=holder, grade=4, stored_in_country=False,
                             last_data_update=timezone.now() - timedelta(days=400))
    national = Run.objects.create(kind=RunKind.INVENTORY)
    zhejiang = Run.objects.create(kind=RunKind.INVENTORY, scope=region("330000"))
    plans = {run.pk: engine.plan(run.pk) for run in (national, zhejiang)}
    errors = []

    def work(run_id, chunk_ids):
        try:
            for chunk_id in chunk_ids:
                engine.work_chunk(chunk_id)
            engine.finish(run_id)
        except Exception as exc:  # pragma: no cover - shown by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=item) for item in plans.items()]
    threads += [threading.Thread(target=work, args=item) for item in plans.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for rule in (FindingRule.STORED_ABROAD, FindingRule.STALE):
        rows = Finding.objects.filter(rule=rule)
        assert rows.count() == 24
        assert rows.values("asset_id").distinct().count() == 24
    for run in (national, zhejiang):
        run.refresh_from_db()
        assert run.status == RunStatus.SUCCEEDED
    assert national.counts[FindingRule.STORED_ABROAD]["found"] == 24
    assert zhejiang.counts[FindingRule.STORED_ABROAD]["found"] == 12


@pytest.mark.django_db
def test_a_second_start_for_the_same_scope_joins_the_first(
    steward, django_capture_on_commit_callbacks
):
    from inventory import services

    scope = region("330000")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first, started = services.start_run(RunKind.INVENTORY, scope, user=steward)
        again, started_again = services.start_run(RunKind.INVENTORY, scope, user=steward)
    assert started and not started_again and again == first
    assert len(callbacks) == 1
    other_kind, started_other = services.start_run(RunKind.RIGHTS_REVIEW, scope, user=steward)
    assert started_other and other_kind != first
