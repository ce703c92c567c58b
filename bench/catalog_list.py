"""Benchmark the catalog list page on a large PostgreSQL catalog.

    python bench/catalog_list.py [--assets 1000000] [--database hdc_bench] [--reuse]

Seeds ``--assets`` assets with ``manage.py seed_demo`` (deterministic: the same seed and size
give the same world) unless ``--reuse`` finds that many already, runs VACUUM ANALYZE, then
requests the list page through Django's test client — the real view, middleware and
templates, in process — for a set of cases (see ``CASES``). Each case is requested once to
warm up and then ``--runs`` times; the median server time is reported beside the time the
same SQL takes when sent directly through psycopg on the same connection, and its
EXPLAIN (ANALYZE, BUFFERS) execution time. Facet counting is reported separately. Results
go to bench/results/<timestamp>.json (with every query's SQL and plan).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
SLOW_MS = 300


@dataclass(frozen=True)
class Case:
    name: str
    user: str | None  # demo username; None: anonymous
    params: dict = field(default_factory=dict)
    deep: str = ""  # "follow": follow next links FOLLOW_PAGES times; "row": cursor at DEEP_ROW


FOLLOW_PAGES = 20
DEEP_ROW = 500_000
CASES = [
    Case("first page", None),
    Case("first page", "steward"),
    Case("first page", "admin"),
    Case("grade=4", "steward", {"grade": "4"}),
    Case("category+sharing", "steward",
         {"category": "health_status", "sharing_type": "conditional"}),
    Case("category+sharing", "admin",
         {"category": "health_status", "sharing_type": "conditional"}),
    Case("region=杭州", "staff", {"region": "330100"}),
    Case("q=肿瘤 (rare)", None, {"q": "肿瘤"}),
    Case("q=肿瘤 (rare)", "steward", {"q": "肿瘤"}),
    Case("q=肿瘤 (rare)", "admin", {"q": "肿瘤"}),
    Case("q=医院 (common)", "steward", {"q": "医院"}),
    Case("q=医院 (common)", "admin", {"q": "医院"}),
    Case("q=艾滋病 sort=name", "admin", {"q": "艾滋病", "sort": "name"}),
    Case(f"page {FOLLOW_PAGES + 1} via next links", "steward", deep="follow"),
    Case(f"cursor at row {DEEP_ROW:,}", "admin", deep="row"),
    Case(f"cursor at row {DEEP_ROW:,}", "steward", deep="row"),
    Case(f"cursor at row {DEEP_ROW:,}", None, deep="row"),
]


def configure(database: str, *, facet_cache: bool) -> None:
    """Point Django at the benchmark database and set it up."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["HDC_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{database}"
    os.environ.setdefault("HDC_DEBUG", "1")
    os.environ["HDC_ALLOWED_HOSTS"] = "testserver,localhost"
    if not facet_cache:
        os.environ["HDC_CATALOG_FACET_CACHE_SECONDS"] = "0"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def ensure_database(database: str) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres",
                         autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            [database]).fetchone():
            conn.execute(f'CREATE DATABASE "{database}"')


def prepare(assets: int, seed: int, *, reuse: bool) -> dict:
    """Migrate, seed unless reusable, VACUUM ANALYZE; return what was done and how long."""
    from django.core.management import call_command
    from django.db import connection

    from catalog.models import DataAsset

    call_command("migrate", verbosity=0)
    existing = DataAsset.objects.count()
    done = {"existing_assets": existing, "seeded": False}
    if not (reuse and existing == assets):
        started = time.monotonic()
        call_command("seed_demo", assets=assets, seed=seed, reset=True, verbosity=1)
        done.update(seeded=True, seed_seconds=round(time.monotonic() - started, 1))
    started = time.monotonic()
    with connection.cursor() as cursor:
        for table in ("catalog_dataasset", "catalog_historicaldataasset",
                      "catalog_dataelement", "accounts_institution"):
            cursor.execute(f'VACUUM (ANALYZE) "{table}"')
    done["vacuum_analyze_seconds"] = round(time.monotonic() - started, 1)
    return done


# --- Measuring -------------------------------------------------------------------------------


def classify(sql: str) -> str:
    """page: the rows shown; facets: counting over the assets; estimate: the planner's row
    estimate that decides whether the counts come with the page; other: session, lookups."""
    if sql.lstrip().startswith("EXPLAIN"):
        return "estimate"
    if '"catalog_dataasset"' not in sql:
        return "other"
    return "page" if re.search(r"\bLIMIT\s+\d+\s*$", sql.strip()) else "facets"


def timed_sql(sql: str, runs: int) -> dict:
    """The SQL sent directly through psycopg on Django's connection (same session settings),
    and its EXPLAIN (ANALYZE, BUFFERS)."""
    from django.db import connection

    connection.ensure_connection()
    cursor = connection.connection.cursor()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        cursor.execute(sql)
        rows = len(cursor.fetchall())
        times.append((time.perf_counter() - started) * 1000)
    cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
    plan = "\n".join(row[0] for row in cursor.fetchall())
    found = re.search(r"Execution Time: ([\d.]+) ms", plan)
    cursor.close()
    return {
        "direct_ms": round(statistics.median(times), 2),
        "explain_ms": float(found.group(1)) if found else None,
        "rows": rows,
        "plan": plan,
    }


def next_cursor(html: str) -> str | None:
    """The cursor of the page's "next" link (direction "a"), whatever the template says."""
    for cursor in re.findall(r"cursor=([A-Za-z0-9_-]+)", html):
        try:
            payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        except ValueError:
            continue
        if payload and payload[0] == "a":
            return cursor
    return None


def deep_row_cursor(row: int) -> str:
    """A cursor just after the ``row``-th asset of the whole catalog in the default order."""
    from catalog.models import DataAsset
    from catalog.pagination import DEFAULT_SORT, SORT_ORDERS, make_cursor

    order = SORT_ORDERS[DEFAULT_SORT]
    sign = "-" if order.descending else ""
    value, pk = (DataAsset.objects.order_by(f"{sign}{order.field}", f"{sign}pk")
                 .values_list(order.field, "pk")[row - 1])
    return make_cursor("a", order, SimpleNamespace(**{order.field: value}, pk=pk))


def measure(case: Case, clients: dict, runs: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = clients[case.user]
    params = dict(case.params)
    if case.deep == "follow":
        for _ in range(FOLLOW_PAGES):
            html = client.get("/catalog/", params).content.decode()
            params["cursor"] = next_cursor(html)
            if params["cursor"] is None:
                raise SystemExit(f"{case.name}: ran out of pages")
    elif case.deep == "row":
        params["cursor"] = clients["_deep_cursor"]
    url = "/catalog/?" + urlencode(params)

    response = client.get(url)  # warm-up
    if response.status_code != 200:
        raise SystemExit(f"{case.name}: {url} answered {response.status_code}")
    server, page_db, facet_db = [], [], []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            server.append((time.perf_counter() - started) * 1000)
        kinds = [(classify(q["sql"]), float(q["time"]) * 1000, q["sql"])
                 for q in captured.captured_queries]
        page_db.append(sum(ms for kind, ms, _sql in kinds if kind == "page"))
        facet_db.append(sum(ms for kind, ms, _sql in kinds if kind == "facets"))
    html = response.content.decode()
    shown = html.count('class="asset-name"')
    queries = []
    for kind, in_view_ms, sql in kinds:
        entry = {"kind": kind, "in_view_ms": round(in_view_ms, 2), "sql": sql}
        if kind in ("page", "facets"):
            entry.update(timed_sql(sql, runs))
        queries.append(entry)
    return {
        "case": case.name,
        "user": case.user or "anonymous",
        "url": url,
        "server_ms": round(statistics.median(server), 1),
        "server_ms_runs": [round(ms, 1) for ms in server],
        "page_db_ms": round(statistics.median(page_db), 1),
        "facets_db_ms": round(statistics.median(facet_db), 1),
        "query_count": len(kinds),
        "rows_shown": shown,
        "queries": queries,
    }


# --- Reporting -------------------------------------------------------------------------------


def _sum(result: dict, kind: str, key: str) -> float:
    return round(sum(q.get(key) or 0 for q in result["queries"] if q["kind"] == kind), 1)


def table(results: list[dict]) -> str:
    header = ["case", "user", "server ms", "queries", "rows", "page SQL: view", "direct",
              "EXPLAIN", "facets: view", "direct", "EXPLAIN"]
    lines = [header]
    for r in results:
        lines.append([
            r["case"], r["user"], f"{r['server_ms']:.1f}", str(r["query_count"]),
            str(r["rows_shown"]), f"{r['page_db_ms']:.1f}", f"{_sum(r, 'page', 'direct_ms')}",
            f"{_sum(r, 'page', 'explain_ms')}", f"{r['facets_db_ms']:.1f}",
            f"{_sum(r, 'facets', 'direct_ms')}", f"{_sum(r, 'facets', 'explain_ms')}",
        ])
    widths = [max(_width(row[i]) for row in lines) for i in range(len(header))]
    out = []
    for number, row in enumerate(lines):
        cells = [_pad(cell, width, right=i >= 2) for i, (cell, width) in
                 enumerate(zip(row, widths, strict=True))]
        out.append("  ".join(cells))
        if number == 0:
            out.append("  ".join("-" * width for width in widths))
    return "\n".join(out)


def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int, *, right: bool) -> str:
    gap = " " * (width - _width(text))
    return gap + text if right else text + gap


def _git(*args: str) -> str:
    git = shutil.which("git")
    if not git:
        return ""
    return subprocess.run([git, *args], cwd=ROOT, capture_output=True, text=True,  # noqa: S603
                          check=False).stdout.strip()


def environment(database: str) -> dict:
    from django.conf import settings
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0]
        cursor.execute("SHOW work_mem")
        work_mem = cursor.fetchone()[0]
    commit = _git("rev-parse", "--short", "HEAD")
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "database": database,
        "postgres": version,
        "work_mem": work_mem,
        "git_commit": commit + ("+changes" if dirty else ""),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "page_size": settings.CATALOG_PAGE_SIZE,
        "facet_cache_seconds": getattr(settings, "CATALOG_FACET_CACHE_SECONDS", None),
        "debug": settings.DEBUG,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assets", type=int, default=1_000_000)
    parser.add_argument("--database", default="hdc_bench")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reuse", action="store_true",
                        help="Skip seeding when the database already has --assets assets.")
    parser.add_argument("--runs", type=int, default=5, help="Measured runs per case.")
    parser.add_argument("--facet-cache", action="store_true",
                        help="Leave the facet-count cache on (off by default: every request "
                             "counts afresh).")
    parser.add_argument("--only", help="Run only the cases whose name contains this text.")
    args = parser.parse_args()

    ensure_database(args.database)
    configure(args.database, facet_cache=args.facet_cache)
    from django.contrib.auth import get_user_model
    from django.test import Client

    prepared = prepare(args.assets, args.seed, reuse=args.reuse)
    env = environment(args.database)
    users = {u.username: u for u in get_user_model().objects.filter(
        username__in=["steward", "admin", "staff"])}
    clients: dict = {None: Client()}
    for name, user in users.items():
        clients[name] = Client()
        clients[name].force_login(user)
    clients["_deep_cursor"] = deep_row_cursor(min(DEEP_ROW, args.assets))

    results = []
    for case in CASES:
        if args.only and args.only not in case.name:
            continue
        result = measure(case, clients, args.runs)
        results.append(result)
        print(f"  {result['case']:<28} {result['user']:<10} {result['server_ms']:>9.1f} ms",
              flush=True)

    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"{stamp}.json"
    path.write_text(json.dumps({
        "assets": args.assets, "runs": args.runs, "prepared": prepared, "environment": env,
        "results": results,
    }, ensure_ascii=False, indent=1))

    print()
    print(f"{args.assets:,} assets · {env['postgres'].split(' on ')[0]} · work_mem "
          f"{env['work_mem']} · facet cache {env['facet_cache_seconds']} s · median of "
          f"{args.runs} runs, ms")
    print(table(results))
    slowest = max((q for r in results for q in r["queries"] if q["kind"] != "other"),
                  key=lambda q: q.get("explain_ms") or 0, default=None)
    if slowest:
        print(f"\nSlowest query ({slowest['kind']}, EXPLAIN {slowest['explain_ms']} ms):")
        print(slowest["sql"])
        print(slowest["plan"])
    slow = [r for r in results if r["server_ms"] > SLOW_MS]
    if slow:
        print(f"\nPages over {SLOW_MS} ms: " + ", ".join(f"{r['case']} ({r['user']})"
                                                      for r in slow))
    print(f"\nWritten {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
