"""Benchmark bulk registration: read, check and stage a 50,000-row XLSX and CSV file.

    python bench/bulk_registration.py [--rows 50000] [--database hdc_bench_bulk] [--runs 1]
                                      [--formats xlsx,csv] [--tracemalloc]

1. The database is created when missing and migrated; one hospital (in 杭州市西湖区) and one
   registrar are created in it (kept between runs).
2. Two files with the same ``--rows`` valid rows are generated deterministically (``--seed``):
   the template's Chinese headers, choices as their Chinese labels, several purposes and
   categories per cell, some dates as Excel date cells; an XLSX (openpyxl, write-only) and a
   CSV in UTF-8 with BOM. They are kept in ``bench/results/bulk-files/`` and reused when
   they are there with the same rows and seed.
3. For each format, in a fresh process (so that the peak memory is this run's own):
   ``registry.bulk.read_rows`` + ``registry.bulk.stage`` on the file as uploaded, timed
   (wall, and CPU of this process); the peak resident memory (``ru_maxrss``) and its growth
   over the process before reading; then the staged rows are deleted with plain SQL. A
   second fresh process only checks the file (``validate``, nothing written) for the
   split between checking and writing. ``--tracemalloc`` adds a third run under tracemalloc
   (Python's own peak allocation; several times slower, so not timed).
4. A table, and ``results/bulk-<UTC timestamp>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

from catalog_list import RESULTS, ROOT, _git, ensure_database

FILES = RESULTS / "bulk-files"
REGISTRAR = "bench_bulk_registrar"
GOAL_SECONDS = 60
MAX_BYTES = 64 * 2**20


def configure(database: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["HDC_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{database}"
    os.environ.setdefault("HDC_DEBUG", "1")
    os.environ.setdefault("HDC_SECRET_KEY", "bench-only")
    os.environ["HDC_BULK_MAX_ROWS"] = str(max(50_000, int(os.environ.get("BENCH_ROWS", "0"))))
    # 50,000 rows of Chinese text make a UTF-8 CSV of about 21 MB, over the default limit.
    os.environ.setdefault("HDC_BULK_MAX_BYTES", str(MAX_BYTES))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    # HDC_DEBUG=1 spares the production settings' HTTPS and static manifest; without this,
    # every query's SQL would be kept in memory (Django's query log), as it is not in
    # production.
    settings.DEBUG = False


# --- The people ---------------------------------------------------------------------------


def people() -> tuple:
    """The bench hospital and its registrar (created once)."""
    from accounts.choices import InstitutionType, Role
    from accounts.models import Institution, Membership, Region, User

    registrar = User.objects.filter(username=REGISTRAR).first()
    if registrar is None:
        registrar = User.objects.create_user(REGISTRAR, password=None,  # noqa: S106
                                             full_name="批量登记员")
    hospital = Institution.objects.filter(memberships__user=registrar).first()
    if hospital is None:
        hospital = Institution.objects.create(
            name="批量登记基准医院", credit_code=_credit_code(),
            type=InstitutionType.TERTIARY_HOSPITAL, region=Region.objects.get(code="330106"))
        Membership.objects.create(user=registrar, institution=hospital, role=Role.REGISTRAR)
    return hospital, registrar


def _credit_code() -> str:
    """A valid unified social credit code for the bench hospital (GB 32100)."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "12" + "330106" + "BENCH0001"
    total = sum(alphabet.index(char) * pow(3, i, 31) for i, char in enumerate(body))
    remainder = total % 31
    return body + alphabet[0 if remainder == 0 else 31 - remainder]


# --- The files ----------------------------------------------------------------------------


def generate_rows(count: int, seed: int):
    """``count`` valid rows (dicts of cell values by field name), the same for a seed."""
    from django.utils import translation

    from catalog.choices import (
        CollectionMethod,
        DataCategory,
        DataFormat,
        Purpose,
        SecurityClass,
        SourceSystem,
        UpdateFrequency,
    )
    from catalog.rules import minimum_grade

    rnd = random.Random(seed)
    regions = ["", "330000", "330100", "330106", "110000", "440000"]
    subjects = ["住院病案首页", "门诊挂号", "检验结果", "影像检查报告", "慢病随访", "预防接种",
                "出生医学证明", "死亡医学证明", "医保结算", "药品处方", "护理记录", "体检记录"]
    with translation.override("zh-hans"):
        def labels(choices):
            return [(code, str(label)) for code, label in choices.choices]

        formats, sources = labels(DataFormat), labels(SourceSystem)
        methods, purposes = labels(CollectionMethod), labels(Purpose)
        frequencies, categories = labels(UpdateFrequency), labels(DataCategory)
        security = labels(SecurityClass)
        yes, no = "是", "否"
        for n in range(count):
            subject = subjects[n % len(subjects)]
            chosen = rnd.sample(categories, rnd.randint(1, 3))
            grade = min(5, minimum_grade([code for code, _ in chosen]) + rnd.randint(0, 1))
            personal = rnd.random() < 0.6
            sharing = rnd.choice(["无条件共享", "有条件共享", "不予共享"])
            opened = "无条件开放" if sharing == "无条件共享" and grade <= 2 else "不予开放"
            start = datetime(2010 + n % 12, 1 + n % 12, 1 + n % 28)  # noqa: DTZ001
            yield {
                "code": f"BULK-{seed}-{n:07d}",
                "name": f"{subject}数据（{n}）",
                "name_en": "" if n % 3 else f"{subject} data {n}",
                "description": f"第{n}号批量登记的数据资源，{subject}相关业务数据。",
                "catalog_class": "",
                "data_format": rnd.choice(formats)[1],
                "source_system": rnd.choice(sources)[1],
                "collection_method": rnd.choice(methods)[1],
                "purposes": "、".join(label for _, label in rnd.sample(purposes,
                                                                      rnd.randint(1, 3))),
                "storage_location": rnd.choice(["院内数据中心", "政务云", "区域卫生平台"]),
                "stored_in_country": yes,
                "record_count": rnd.randint(1_000, 50_000_000),
                "storage_bytes": "" if n % 4 else rnd.randint(10**6, 10**12),
                "individual_count": "" if n % 5 else rnd.randint(100, 5_000_000),
                "update_frequency": rnd.choice(frequencies)[1],
                "last_data_update": "" if n % 2 else f"2026-0{1 + n % 9}-1{n % 10} 08:30:00",
                "responsible_person": rnd.choice(["张三", "李四", "王五", "赵六"]),
                "responsible_phone": f"0571-8{n % 10_000_000:07d}",
                "responsible_email": "" if n % 7 else f"owner{n}@example.org",
                "categories": "、".join(label for _, label in chosen),
                "grade": f"{grade}级",
                "security_class": security[0][1] if grade < 5 else security[1][1],
                "sharing_type": sharing,
                "sharing_condition": "" if sharing == "无条件共享"
                else "依据《数据安全法》审批后使用",
                "open_attribute": opened,
                "contains_personal_info": yes if personal else no,
                "deidentification": rnd.choice(["假名化（可重标识）", "匿名化"]) if personal
                else "不适用",
                # Every tenth row an Excel date cell in the XLSX (text in the CSV).
                "temporal_start": start if n % 10 == 0 else start.date().isoformat(),
                "temporal_end": "",
                "spatial_coverage": regions[n % len(regions)],
                "grade_reason": "",
            }


def write_files(count: int, seed: int) -> dict[str, Path]:
    """The XLSX and CSV files of ``count`` rows (generated unless already there)."""
    import csv

    from openpyxl import Workbook

    from registry import bulk

    FILES.mkdir(parents=True, exist_ok=True)
    paths = {"xlsx": FILES / f"bulk-{count}-{seed}.xlsx", "csv": FILES / f"bulk-{count}-{seed}.csv"}
    if all(path.exists() for path in paths.values()):
        return paths
    specs = bulk.columns()
    started = time.monotonic()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("资产")
    sheet.append([column.header for column in specs])
    with open(paths["csv"], "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([column.header for column in specs])
        for row in generate_rows(count, seed):
            values = [row[column.name] for column in specs]
            sheet.append(values)
            writer.writerow([value.date().isoformat() if isinstance(value, datetime) else value
                             for value in values])
    workbook.save(paths["xlsx"])
    print(f"generated {count:,} rows in {time.monotonic() - started:.1f} s", file=sys.stderr)
    return paths


# --- One measured run (a child process) ---------------------------------------------------


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_one(path: Path, mode: str, use_tracemalloc: bool) -> dict:
    """Read and stage (or only check) ``path``; the staged rows are deleted afterwards."""
    from django.db import connection

    from registry import bulk

    hospital, registrar = people()
    bulk.columns()  # imports and translations loaded before the baseline
    import openpyxl  # noqa: F401

    baseline = _rss_mb()
    if use_tracemalloc:
        tracemalloc.start()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    with open(path, "rb") as upload:
        sheet = bulk.read_rows(upload)
        opened = time.perf_counter() - wall0
        if mode == "stage":
            batch = bulk.stage(sheet, hospital, registrar, path.name)
            rows = batch.rows
        else:
            report = bulk.validate(sheet, hospital, registrar)
            assert report.ok, report.errors[:5]
            rows = report.rows
        sheet.close()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    result = {
        "format": path.suffix[1:], "mode": mode, "rows": rows, "file_bytes": path.stat().st_size,
        "seconds": round(wall, 2), "cpu_seconds": round(cpu, 2),
        "open_seconds": round(opened, 3),
        "rows_per_second": round(rows / wall),
        "peak_rss_mb": round(_rss_mb(), 1), "baseline_rss_mb": round(baseline, 1),
    }
    result["rss_growth_mb"] = round(result["peak_rss_mb"] - baseline, 1)
    if use_tracemalloc:
        result["tracemalloc_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
        tracemalloc.stop()
    if mode == "stage":
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM registry_applicationevent WHERE application_id IN "
                           "(SELECT id FROM registry_registrationapplication WHERE batch_id = %s)",
                           [batch.pk])
            cursor.execute("DELETE FROM registry_registrationapplication WHERE batch_id = %s",
                           [batch.pk])
            cursor.execute("DELETE FROM audit_auditevent WHERE target_type_id = "
                           "(SELECT id FROM django_content_type WHERE app_label = 'registry' "
                           "AND model = 'registrationbatch') AND target_id = %s", [str(batch.pk)])
            cursor.execute("DELETE FROM registry_registrationbatch WHERE id = %s", [batch.pk])
            # As autovacuum would soon: the next run's code check scans the applications.
            cursor.execute("VACUUM (ANALYZE) registry_registrationapplication, "
                           "registry_applicationevent")
        result["cleanup_seconds"] = round(time.perf_counter() - started, 2)
    return result


def child(args) -> int:
    configure(args.database)
    result = run_one(Path(args.child), args.mode, args.tracemalloc)
    print(json.dumps(result))
    return 0


def spawn(args, path: Path, mode: str, use_tracemalloc: bool = False) -> dict:
    command = [sys.executable, __file__, "--child", str(path), "--mode", mode,
               "--database", args.database]
    if use_tracemalloc:
        command.append("--tracemalloc")
    done = subprocess.run(command, capture_output=True, text=True, check=False,  # noqa: S603
                          env={**os.environ, "BENCH_ROWS": str(args.rows)})
    if done.returncode:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"the {mode} run of {path.name} failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- Main ---------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", default="hdc_bench_bulk")
    parser.add_argument("--runs", type=int, default=1, help="stage runs per format")
    parser.add_argument("--formats", default="xlsx,csv")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="add a run under tracemalloc (Python's peak allocation)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="stage", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)

    ensure_database(args.database)
    os.environ["BENCH_ROWS"] = str(args.rows)
    configure(args.database)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    people()
    paths = write_files(args.rows, args.seed)

    results = []
    for kind in args.formats.split(","):
        for _run in range(args.runs):
            results.append(spawn(args, paths[kind], "stage"))
            print(_line(results[-1]), file=sys.stderr)
        results.append(spawn(args, paths[kind], "validate"))
        print(_line(results[-1]), file=sys.stderr)
        if args.tracemalloc:
            results.append(spawn(args, paths[kind], "stage", use_tracemalloc=True))
            print(_line(results[-1]), file=sys.stderr)

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"bulk-{stamp}.json"
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    out.write_text(json.dumps({
        "rows": args.rows, "seed": args.seed, "database": args.database,
        "bulk_max_bytes": int(os.environ["HDC_BULK_MAX_BYTES"]),
        "postgres": version, "git_commit": _git("rev-parse", "--short", "HEAD")
        + ("+changes" if dirty else ""), "cpus": os.cpu_count(),
        "load_average": os.getloadavg(), "goal_seconds": GOAL_SECONDS, "results": results,
    }, indent=2, ensure_ascii=False))
    print(table(results))
    print(f"\n{out.relative_to(ROOT)}")
    return 0 if all(r["seconds"] < GOAL_SECONDS for r in results if r["mode"] == "stage"
                    and "tracemalloc_peak_mb" not in r) else 1


def _line(result: dict) -> str:
    extra = (f", tracemalloc peak {result['tracemalloc_peak_mb']} MB"
             if "tracemalloc_peak_mb" in result else "")
    return (f"{result['format']} {result['mode']}: {result['rows']:,} rows in "
            f"{result['seconds']} s (cpu {result['cpu_seconds']} s), peak RSS "
            f"{result['peak_rss_mb']} MB (+{result['rss_growth_mb']} MB){extra}")


def table(results: list[dict]) -> str:
    head = ("format", "run", "rows", "file MB", "wall s", "cpu s", "rows/s", "peak RSS MB",
            "growth MB", "tracemalloc MB")
    lines = [" | ".join(head), " | ".join("---" for _ in head)]
    for r in results:
        lines.append(" | ".join(str(value) for value in (
            r["format"], r["mode"] + (" (traced)" if "tracemalloc_peak_mb" in r else ""),
            f"{r['rows']:,}", f"{r['file_bytes'] / 2**20:.1f}", r["seconds"], r["cpu_seconds"],
            f"{r['rows_per_second']:,}", r["peak_rss_mb"], r["rss_growth_mb"],
            r.get("tracemalloc_peak_mb", "—"),
        )))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
