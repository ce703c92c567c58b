"""Benchmark the asset list endpoint of the REST API under load, at 1,000,000 assets.

    python bench/api_list.py [--database hdc_bench] [--seconds 30] [--connections 16]

Uses the database the other benchmarks build (``bench/catalog_list.py`` or
``bench/inventory_runs.py``); builds none. Starts gunicorn with two sync workers on
127.0.0.1 against it (production settings but plain HTTP, no query log), then drives
``/api/assets/`` with wrk (Debian's ``wrk``) over loopback for ``--seconds`` per case:

* anonymous, first page of the open catalog;
* the provincial steward (token authentication), first page of their jurisdiction;
* the same, filtered (``grade=4``);
* anonymous, a page deep in the catalog (the ``next`` link followed 20 times).

wrk reports requests per second and latency percentiles (``--latency``); the script keeps
the throughput, p50, p95 (interpolated from wrk's 90 % and 99 %) and p99, and any non-2xx
responses. Results go to bench/results/api-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent
RESULTS = HERE.parent / "results"
PORT = 8071
GOAL_RPS = 300


def server_env(database: str, public_cache: int | None = None) -> dict:
    env = dict(os.environ)
    env.update({
        "HDC_DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "HDC_SECRET_KEY": "bench-only-" + "x" * 40,
        "HDC_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "HDC_DEBUG": "0",
        "HDC_SECURE_SSL_REDIRECT": "0",
        "HDC_API_ANON_RATE": "1000000/minute",
        "HDC_API_USER_RATE": "1000000/minute",
        "HDC_REDIS_URL": "redis://127.0.0.1:6379/9",
        "HDC_CACHE_PREFIX": f"bench-api-{database}",
    })
    if public_cache is not None:
        env["HDC_API_PUBLIC_CACHE_SECONDS"] = str(public_cache)
    return env


def token_for(database: str, username: str) -> str:
    code = (
        "from rest_framework.authtoken.models import Token;"
        "from django.contrib.auth import get_user_model;"
        f"u = get_user_model().objects.get(username={username!r});"
        "print(Token.objects.get_or_create(user=u)[0].key)"
    )
    env = server_env(database) | {"HDC_DEBUG": "1"}
    done = subprocess.run(  # noqa: S603 (this project's manage.py)
        [sys.executable, str(ROOT / "manage.py"), "shell", "-c", code],
        env=env, capture_output=True, text=True, check=True, cwd=ROOT,
    )
    return done.stdout.strip().splitlines()[-1]


def deep_url(headers: dict, pages: int = 20) -> str:
    url = f"http://127.0.0.1:{PORT}/api/assets/"
    for _page in range(pages):
        request = urllib.request.Request(url, headers=headers)  # noqa: S310 (loopback)
        with urllib.request.urlopen(request) as response:  # noqa: S310
            url = json.load(response)["next"]
    return url


def wrk(url: str, seconds: int, connections: int, headers: dict) -> dict:
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    done = subprocess.run([*args, url], capture_output=True, text=True, check=True)  # noqa: S603
    text = done.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    percentiles = {
        int(p): _ms(value) for p, value in re.findall(r"\s(\d+)%\s+([\d.]+\w+)", text)
    }
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    p95 = percentiles[90] + (percentiles[99] - percentiles[90]) * 5 / 9
    return {
        "rps": round(rps), "p50_ms": percentiles[50], "p95_ms": round(p95, 1),
        "p99_ms": percentiles[99], "non_2xx": int(errors.group(1)) if errors else 0,
        "wrk": text,
    }


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()
    return round(float(number) * {"us": 0.001, "ms": 1, "s": 1000}[unit], 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="hdc_bench")
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--steward", default="steward")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per gunicorn worker (1: the sync worker)")
    parser.add_argument("--only", default="", help="run only the cases whose name has this")
    parser.add_argument("--public-cache", type=int, default=None,
                        help="seconds the public's pages are cached (0: off; default: the "
                             "setting's)")
    args = parser.parse_args()

    token = token_for(args.database, args.steward)
    gunicorn = subprocess.Popen(  # noqa: S603
        [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi:application",
         "--bind", f"127.0.0.1:{PORT}", "--workers", "2", "--threads", str(args.threads),
         "--log-level", "warning"],
        env=server_env(args.database, args.public_cache), cwd=ROOT,
    )
    try:
        for _attempt in range(60):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/api/assets/")  # noqa: S310
                break
            except OSError:
                time.sleep(0.5)
        steward = {"Authorization": f"Token {token}"}
        base = f"http://127.0.0.1:{PORT}/api/assets/"
        cases = [
            ("anonymous · first page", base, {}),
            ("steward (token) · first page", base, steward),
            ("steward (token) · grade=4", base + "?grade=4", steward),
            ("anonymous · page 21", deep_url({}), {}),
        ]
        results = []
        for name, url, headers in cases:
            if args.only not in name:
                continue
            wrk(url, 3, args.connections, headers)  # warm-up
            found = wrk(url, args.seconds, args.connections, headers)
            results.append({"case": name, "url": url, **found})
            print(f"  {name:<32} {found['rps']:>6} req/s  p50 {found['p50_ms']} ms  "
                  f"p95 {found['p95_ms']} ms  p99 {found['p99_ms']} ms  "
                  f"non-2xx {found['non_2xx']}", flush=True)
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(timeout=30)
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"api-{stamp}.json"
    path.write_text(json.dumps({
        "database": args.database, "workers": 2, "threads": args.threads,
        "public_cache": args.public_cache,
        "connections": args.connections,
        "seconds": args.seconds, "goal_rps": GOAL_RPS, "cases": results,
        "load_average": os.getloadavg(),
    }, indent=2, ensure_ascii=False))
    print(f"Written {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
