"""Benchmark the inventory report at 1,000,000 assets: the page, and its CSV, XLSX and PDF.

    python bench/inventory_reports.py [--database hdc_bench] [--runs 5] [--formats csv,xlsx,pdf]

Uses the database that ``bench/inventory_runs.py`` builds (1M assets from ``seed_demo``,
1M rights allocations, the findings of one inventory and one rights review); it does not
build one. Four demo personas request ``/reports/`` through Django's test client: the
national administrator, the Zhejiang provincial steward (330000), the Hangzhou commission
staff member (330100) and a county steward (330127). Each page is timed with the figure cache
off (``cold``: every figure counted live, the cost of a filtered view), summed from the
background counting of the catalog (``summed``: ``reports.rollup``, what an unfiltered view
costs; the counting itself is timed first) and from the figure cache (``warm``: a view
seen before), median of ``--runs``.

Each export is produced the way the app produces it (``reports.archive.request_export``,
jobs in-process) for the whole country, in a fresh child process so that its peak memory
(``ru_maxrss``) is its own: ``file`` is the job that writes and stores the file; the
figures of the snapshot archived with it are counted before (the page's cached figures, in
the app; counted afresh here and shown apart). Results go to
bench/results/reports-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from catalog_list import RESULTS, configure, environment

HERE = Path(__file__).resolve()
PERSONAS = [  # (label, username, scope)
    ("national", "admin", "全国"),
    ("province", "steward", "330000 浙江省"),
    ("city", "staff", "330100 杭州市"),
    ("county", "county_steward", "330127 淳安县"),
]
FORMATS = ("csv", "xlsx", "pdf")
GOALS = {"page": 1.0, "csv": 20.0, "xlsx": 90.0, "pdf": 10.0}
XLSX_MEMORY_GOAL_MB = 300


def page_times(runs: int) -> list[dict]:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.test import Client

    from reports.figures import scoped_assets

    users = get_user_model().objects.in_bulk([u for _l, u, _s in PERSONAS], field_name="username")
    rows = []
    for label, username, scope in PERSONAS:
        client = Client()
        client.force_login(users[username])
        timings = {}
        for mode, seconds, rollup_age in (("cold", 0, 0), ("summed", 0, 3600),
                                          ("warm", 900, 0)):
            settings.REPORT_CACHE_SECONDS = seconds
            settings.REPORT_ROLLUP_MAX_AGE = rollup_age
            cache.clear()
            client.get("/reports/")  # warm-up (and, warm: fills the cache)
            laps = []
            for _run in range(runs):
                started = time.perf_counter()
                response = client.get("/reports/")
                laps.append(time.perf_counter() - started)
                assert response.status_code == 200, response.status_code
            timings[mode] = round(statistics.median(laps), 3)
        total = scoped_assets(users[username], {}).count()
        rows.append({"persona": label, "scope": scope, "assets": total, **timings})
        print(f"  page · {label:<9} {total:>9,} assets  cold {timings['cold']:.3f} s  "
              f"summed {timings['summed']:.3f} s  warm {timings['warm']:.3f} s", flush=True)
    return rows


def export_in_child(format: str, database: str) -> dict:
    """Run one export in a child process; its JSON line is the result."""
    done = subprocess.run(  # noqa: S603 (this script itself)
        [sys.executable, str(HERE), "--database", database, "--child", format],
        capture_output=True, text=True, check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or not lines:
        raise SystemExit(f"export {format} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(lines[-1])


def child(format: str) -> None:
    from django.contrib.auth import get_user_model

    from reports import archive
    from reports.choices import FileStatus
    from reports.figures import build_report
    from reports.snapshot import take_snapshot

    admin = get_user_model().objects.get(username="admin")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    snapshot = take_snapshot(build_report(admin, {}))
    figures = time.perf_counter() - started
    file = archive.request_export(admin, {}, format, snapshot)  # produced in-process
    seconds = time.perf_counter() - started
    file.refresh_from_db()
    assert file.status == FileStatus.DONE, file.error
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "format": format, "seconds": round(seconds, 1), "figures_seconds": round(figures, 1),
        "file_seconds": round(seconds - figures, 1),
        "rows": file.rows_total, "bytes": file.size,
        "peak_rss_mb": round(peak / 1024), "rss_before_mb": round(before / 1024),
    }))
    archive.archive_storage().delete(file.path)
    file.report.delete()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="hdc_bench")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--skip-page", action="store_true")
    parser.add_argument("--child", choices=FORMATS, help=argparse.SUPPRESS)
    args = parser.parse_args()

    os.environ.pop("HDC_REDIS_URL", None)  # jobs in-process
    os.environ.setdefault("HDC_REPORT_DIR", tempfile.mkdtemp(prefix="hdc-bench-reports-"))
    configure(args.database, facet_cache=False)
    from django.conf import settings

    settings.DEBUG = False  # no query log
    if args.child:
        child(args.child)
        return 0

    result = {"environment": environment(args.database), "pages": [], "exports": []}
    if not args.skip_page:
        from django.core.management import call_command

        from reports import rollup

        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        made = rollup.build(force=True)
        result["rollup"] = {"seconds": round(time.perf_counter() - started, 1),
                            "rows": made.rows}
        print(f"Counting the catalog for the reports (reports.rollup): "
              f"{result['rollup']['seconds']} s, {made.rows:,} rows", flush=True)
        print("Report page (server time, median):", flush=True)
        result["pages"] = page_times(args.runs)
    for format in [f for f in args.formats.split(",") if f]:
        found = export_in_child(format, args.database)
        result["exports"].append(found)
        print(f"  {format:<4} file {found['file_seconds']:>6.1f} s  {found['rows']:>9,} rows  "
              f"{found['bytes'] / 1e6:>7.1f} MB  peak RSS {found['peak_rss_mb']} MB  "
              f"(with uncached figures {found['seconds']} s)", flush=True)
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"reports-{stamp}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    print(f"Written {path.relative_to(HERE.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
