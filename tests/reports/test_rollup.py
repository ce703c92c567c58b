"""Reports summed from the background counting of the catalog equal reports counted live,
for every jurisdiction and drill-down; a stale or unusable counting is not used."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from reports import rollup
from reports.cache import report_figures
from reports.figures import build_report
from reports.models import FigureCount, RollupBuild

from ..factories import DataAssetFactory, region
from .test_report import JURISDICTION_PREFIX, figures

pytestmark = pytest.mark.django_db


@pytest.fixture
def rollup_on(settings):
    settings.REPORT_ROLLUP_MAX_AGE = 600
    return settings


def same(a, b) -> None:
    assert figures(a) == figures(b)
    assert [(r.value, r.label, r.count, r.drill) for r in a.breakdowns["region"].rows] == [
        (r.value, r.label, r.count, r.drill) for r in b.breakdowns["region"].rows]
    assert [(r.value, r.count) for r in a.registered_by_month] == [
        (r.value, r.count) for r in b.registered_by_month]
    assert a.findings_total == b.findings_total


@pytest.mark.parametrize("user_key", sorted(JURISDICTION_PREFIX))
def test_summed_figures_equal_live_ones(world, rollup_on, user_key):
    made = rollup.build(force=True)
    assert made is not None and made.rows > 0
    user = world.users[user_key]
    summed = report_figures(user, {})
    assert summed.as_of == made.started_at
    same(summed, build_report(user, {}))


@pytest.mark.parametrize("code", ["330100", "330106", "330203"])
def test_drill_down_from_the_counting(world, rollup_on, code):
    rollup.build(force=True)
    user = world.users["province_steward"]
    chosen = {"region": region(code)}
    summed = report_figures(user, chosen)
    assert summed.as_of is not None
    same(summed, build_report(user, chosen))


def test_filters_and_stale_countings_count_live(world, rollup_on):
    made = rollup.build(force=True)
    user = world.users["city_steward"]
    assert report_figures(user, {"grade": 3}).as_of is None
    RollupBuild.objects.filter(pk=made.pk).update(
        started_at=timezone.now() - timedelta(seconds=601))
    assert report_figures(user, {}).as_of is None


def test_nothing_changed_nothing_counted_and_one_counting_kept(world, rollup_on,
                                                              django_capture_on_commit_callbacks):
    first = rollup.build(force=True)
    assert rollup.build() is None  # the same stamp
    with django_capture_on_commit_callbacks(execute=True):
        DataAssetFactory(holder=world.institutions["xihu_a"])
    second = rollup.build()
    assert second is not None and second.pk != first.pk
    assert list(RollupBuild.objects.values_list("pk", flat=True)) == [second.pk]
    assert not FigureCount.objects.exclude(build=second).exists()


def test_page_says_as_of_when(client, world, rollup_on):
    client.force_login(world.users["province_steward"])
    assert 'id="figures-as-of"' not in client.get(reverse("reports:report")).content.decode()
    made = rollup.build(force=True)
    page = client.get(reverse("reports:report"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "统计截至" in page
    at = timezone.localtime(made.started_at).strftime("%Y-%m-%d %H:%M")
    assert '<span id="figures-as-of">' in page and f"{at}</span>" in page


def test_monthly_reports_are_summed_from_the_counting(world, rollup_on, settings, tmp_path,
                                                     django_capture_on_commit_callbacks):
    from config.celery import app
    from reports.archive import make_monthly_report
    from reports.models import ArchivedReport

    settings.STORAGES = {**settings.STORAGES, "reports": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path)}}}
    made = rollup.build(force=True)
    commission = world.users["city_steward"].memberships.get().institution
    previous, app.conf.task_always_eager = app.conf.task_always_eager, True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            make_monthly_report(commission.pk, timezone.localdate().replace(day=1))
    finally:
        app.conf.task_always_eager = previous
    report = ArchivedReport.objects.get(commission=commission)
    assert report.snapshot["as_of"] == made.started_at.isoformat()
    assert report.snapshot["total"] == build_report(world.users["city_steward"], {}).total
