"""Benchmark the permission scoping of the catalog list on a large PostgreSQL catalog.

    python bench/scoping.py [--assets 1000000] [--grants 100000] [--database hdc_bench] [--reuse]

Seeds ``--assets`` assets with ``manage.py seed_demo`` as catalog_list.py does (unless
``--reuse`` finds that many; a database holding other assets is dropped and created afresh,
as reseeding in place leaves the asset table twice its size), runs ``migrate`` again, then
adds ``--grants`` explicit user grants and ``--group-grants`` group grants in a few
set-based ``INSERT … SELECT`` statements (deterministic: the grantees, assets, permissions
and expiries come from md5 of the slot number and the assets' codes, so the same world gets
the same grants; skipped when they are already there). Four personas — a county registrar,
the provincial steward, a public-health officer with 1,000 live grants, and the anonymous
public — request the list page through Django's test client (first page, a keyset page at
90 % of their own scope, two facet filters) with the facet cache off, and once more with a warm
facet cache. Every catalog query is timed directly and under EXPLAIN (ANALYZE, BUFFERS);
``DataAsset.objects.visible_to(user)`` is also measured without the page (count and first
page). Results go to bench/results/scoping-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import statistics
import sys
import time
from datetime import UTC, datetime
from types import SimpleNamespace
from urllib.parse import urlencode

from catalog_list import (
    RESULTS,
    ROOT,
    Case,
    classify,
    configure,
    ensure_database,
    environment,
    measure,
    prepare,
    timed_sql,
)

GRANT_REASON = "bench/scoping.py: generated grant"  # marks the rows this script owns
USER_PREFIX = "bench_ph_"  # bench_ph_0001 …: public-health officers at CDCs
OFFICER = "bench_ph_officer"  # exactly OFFICER_LIVE live view grants, OFFICER_EXPIRED expired
REGISTRAR = "bench_county_registrar"
GROUP_PREFIX = "bench_group_"
OFFICER_LIVE = 1_000
OFFICER_EXPIRED = 25
OFFICER_CDC = "浙江省疾病预防控制中心"
GROUPS = 5
GROUP_MEMBER_EVERY = 10  # bench user n is in group n % 10 when that is < GROUPS
OPEN_SHARE = 5  # percent of grant slots that pick an asset of the open catalog
DEEP_SHARE = 0.9  # the deep page starts at this fraction of the persona's scope
FOLLOW_PAGES = 20
SEED_LOCK = 2026_11_23  # pg_advisory_xact_lock key of the grant seeding
PERSONAS = ["county registrar", "steward", OFFICER, "anonymous"]
CASES = [
    ("first page", {}),
    ("deep page", {}),
    ("grade=3", {"grade": "3"}),
    ("category=health_status", {"category": "health_status"}),
]


# --- Seeding the grants -------------------------------------------------------------------


def _tables():
    from django.contrib.auth import get_user_model

    from access.models import AssetGroupGrant, AssetUserGrant
    from accounts.models import Membership

    user_model = get_user_model()
    return SimpleNamespace(
        user=user_model._meta.db_table,
        user_groups=user_model.groups.through._meta.db_table,
        membership=Membership._meta.db_table,
        user_grant=AssetUserGrant._meta.db_table,
        group_grant=AssetGroupGrant._meta.db_table,
    )


def purge_bench_rows(database: str) -> None:
    """Delete this script's grants, memberships and group links with plain SQL.

    Before ``seed_demo --reset``: it removes the rows pointing at demo assets and
    institutions through the ORM, one audited delete per row, which for 100,000 grants takes
    far longer than the seed itself."""
    import psycopg

    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{database}") as conn:
        if conn.execute("SELECT to_regclass('access_assetusergrant')").fetchone()[0] is None:
            return
        conn.execute("DELETE FROM access_assetusergrant WHERE reason = %s", [GRANT_REASON])
        conn.execute("DELETE FROM access_assetgroupgrant WHERE reason = %s", [GRANT_REASON])
        conn.execute("DELETE FROM accounts_membership WHERE user_id IN "
                     "(SELECT id FROM accounts_user WHERE username LIKE 'bench\\_%%')")


def _hashes(key: str) -> str:
    """Four 32-bit numbers h1…h4 from md5 of ``key`` and the slot ``s`` (a SQL fragment)."""
    parts = ", ".join(
        f"('x' || substr(m, {1 + 8 * i}, 8))::bit(32)::bigint AS h{i + 1}" for i in range(4)
    )
    return f"SELECT s, {parts} FROM (SELECT s, md5('{key}:' || s) AS m FROM slots) AS md"


# An asset picked by a slot's hashes: the open catalog for OPEN_SHARE percent of the slots,
# the rest of the catalog otherwise; both numbered in the order of the assets' codes.
PICK = f"""
    CASE WHEN %(n_open)s > 0 AND h.h2 %% 100 < {OPEN_SHARE} THEN o.id ELSE c.id END AS asset_id
    FROM hashed h
    LEFT JOIN bench_open o ON o.n = h.h3 %% greatest(%(n_open)s, 1)
    LEFT JOIN bench_closed c ON c.n = h.h3 %% greatest(%(n_closed)s, 1)
"""
# Expiry bands: 10 % expired (1–365 days ago), 20 % ahead (30–729 days), the rest none.
EXPIRY = """
    CASE WHEN (h4 / 10) %% 100 < 10 THEN now() - make_interval(days => 1 + (h2 / 100)::int %% 365)
         WHEN (h4 / 10) %% 100 < 30 THEN now() + make_interval(days => 30 + (h2 / 100)::int %% 700)
    END
"""
GRANTED_AT = "now() - make_interval(days => 366 + (h1 / 7)::int %% 700)"


def seed_grants(args) -> dict:
    """The bench users, their memberships and groups, and the grants; idempotent."""
    from django.contrib.auth.models import Group, Permission
    from django.db import connection, transaction

    from access.models import AssetGroupGrant, AssetUserGrant
    from accounts.choices import Role
    from catalog import demo
    from catalog.models import DataAsset
    from catalog.rules import OPEN_CATALOG

    t = _tables()
    timings: dict[str, float] = {}
    started = time.monotonic()

    def lap(name: str) -> None:
        nonlocal started
        timings[name] = round(time.monotonic() - started, 2)
        started = time.monotonic()

    permissions = dict(Permission.objects.filter(
        content_type__app_label="catalog", content_type__model="dataasset",
        codename__in=["view_dataasset", "change_dataasset"]).values_list("codename", "pk"))
    view, change = permissions["view_dataasset"], permissions["change_dataasset"]
    bulk_grants = args.grants - OFFICER_LIVE - OFFICER_EXPIRED
    if bulk_grants < 0:
        raise SystemExit(f"--grants must be at least {OFFICER_LIVE + OFFICER_EXPIRED}")

    with transaction.atomic(), connection.cursor() as cursor:
        # One run at a time seeds (others wait here, then find everything in place).
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEED_LOCK])
        # Users: bench_ph_0001 … and the two personas, without passwords (force_login).
        names = [f"{USER_PREFIX}{n:04d}" for n in range(1, args.bench_users + 1)]
        cursor.execute(
            f"""INSERT INTO {t.user} (password, is_superuser, username, first_name, last_name,
                    email, is_staff, is_active, date_joined, full_name, phone)
                SELECT '!', false, name, '', '', name || '@bench.example.cn', false, true,
                       now(), name, ''
                FROM unnest(%s::text[]) AS name
                ON CONFLICT (username) DO NOTHING""",
            [[*names, OFFICER, REGISTRAR]])
        lap("users")

        # Memberships and group links: brought to the wanted set (institution ids change
        # when the world is reseeded), touching nothing that is already right.
        cursor.execute(
            f"""CREATE TEMP TABLE bench_want_membership ON COMMIT DROP AS
                SELECT u.id AS user_id, cdc.id AS institution_id, %s::text AS role
                FROM (SELECT id, row_number() OVER (ORDER BY username) - 1 AS n
                      FROM {t.user} WHERE username = ANY(%s)) AS u
                JOIN (SELECT id, row_number() OVER (ORDER BY credit_code) - 1 AS n
                      FROM accounts_institution WHERE type = 'cdc' AND credit_code ~ %s) AS cdc
                  ON cdc.n = u.n %% (SELECT count(*) FROM accounts_institution
                                    WHERE type = 'cdc' AND credit_code ~ %s)
                UNION ALL
                SELECT u.id, i.id, %s FROM {t.user} u, accounts_institution i
                WHERE u.username = %s AND i.name = %s AND i.credit_code ~ %s""",
            [Role.PUBLIC_HEALTH_OFFICER, names, demo.DEMO_CREDIT_CODE_RE,
             demo.DEMO_CREDIT_CODE_RE, Role.PUBLIC_HEALTH_OFFICER, OFFICER, OFFICER_CDC,
             demo.DEMO_CREDIT_CODE_RE])
        registrar_at = county_institution(cursor)
        cursor.execute(
            f"""INSERT INTO bench_want_membership
                SELECT id, %s, %s FROM {t.user} WHERE username = %s""",
            [registrar_at["id"], Role.REGISTRAR, REGISTRAR])
        cursor.execute(
            f"""DELETE FROM {t.membership} m
                WHERE m.user_id IN (SELECT id FROM {t.user} WHERE username LIKE 'bench\\_%%')
                  AND NOT EXISTS (SELECT 1 FROM bench_want_membership w
                                  WHERE (w.user_id, w.institution_id, w.role)
                                      = (m.user_id, m.institution_id, m.role))""")
        cursor.execute(
            f"""INSERT INTO {t.membership} (user_id, institution_id, role, is_active, created_at)
                SELECT user_id, institution_id, role, true, now() FROM bench_want_membership
                ON CONFLICT (user_id, institution_id, role) DO UPDATE SET is_active = true
                WHERE NOT {t.membership}.is_active""")
        lap("memberships")

        # Groups with members (the officer and the registrar are in none).
        groups = [f"{GROUP_PREFIX}{g + 1}" for g in range(GROUPS)]
        cursor.execute("INSERT INTO auth_group (name) SELECT unnest(%s::text[]) "
                       "ON CONFLICT (name) DO NOTHING", [groups])
        cursor.execute(
            f"""CREATE TEMP TABLE bench_want_group ON COMMIT DROP AS
                SELECT u.id AS user_id, g.id AS group_id
                FROM (SELECT id, row_number() OVER (ORDER BY username) - 1 AS n
                      FROM {t.user} WHERE username = ANY(%s)) AS u
                JOIN (SELECT id, row_number() OVER (ORDER BY name) - 1 AS n
                      FROM auth_group WHERE name = ANY(%s)) AS g
                  ON g.n = u.n %% {GROUP_MEMBER_EVERY}""",
            [names, groups])
        cursor.execute(
            f"""DELETE FROM {t.user_groups} ug
                WHERE ug.user_id IN (SELECT id FROM {t.user} WHERE username LIKE 'bench\\_%%')
                  AND NOT EXISTS (SELECT 1 FROM bench_want_group w
                                  WHERE (w.user_id, w.group_id) = (ug.user_id, ug.group_id))""")
        cursor.execute(
            f"""INSERT INTO {t.user_groups} (user_id, group_id)
                SELECT user_id, group_id FROM bench_want_group
                ON CONFLICT (user_id, group_id) DO NOTHING""")
        lap("groups")

        officer_id = _user_id(cursor, OFFICER)
        present = {
            "user_grants": AssetUserGrant.objects.filter(reason=GRANT_REASON).count(),
            "group_grants": AssetGroupGrant.objects.filter(reason=GRANT_REASON).count(),
            "officer_live_view": AssetUserGrant.objects.live().filter(
                user_id=officer_id, permission_id=view).count(),
        }
        wanted = {"user_grants": args.grants, "group_grants": args.group_grants,
                  "officer_live_view": OFFICER_LIVE}
        if present == wanted:
            lap("check")
            return {"seeded": False, "present": present, "timings": timings,
                    "registrar_institution": registrar_at}

        cursor.execute("DELETE FROM access_assetusergrant WHERE reason = %s", [GRANT_REASON])
        cursor.execute("DELETE FROM access_assetgroupgrant WHERE reason = %s", [GRANT_REASON])
        lap("delete_previous")

        # The assets grants pick from, numbered in code order (stable across reseeds).
        query = DataAsset.objects.filter(OPEN_CATALOG).query
        where, where_params = query.where.as_sql(query.get_compiler(connection=connection),
                                                 connection)
        for table, condition in (("bench_open", where), ("bench_closed", f"NOT ({where})")):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.execute(
                f"""CREATE TEMP TABLE {table} AS
                    SELECT (row_number() OVER (ORDER BY code) - 1)::bigint AS n, id
                    FROM catalog_dataasset WHERE {condition}""", where_params)
            cursor.execute(f"ALTER TABLE {table} ADD PRIMARY KEY (n)")
            cursor.execute(f"ANALYZE {table}")
        cursor.execute("SELECT (SELECT count(*) FROM bench_open), "
                       "(SELECT count(*) FROM bench_closed)")
        n_open, n_closed = cursor.fetchone()
        lap("candidates")
        common = {"n_open": n_open, "n_closed": n_closed, "reason": GRANT_REASON,
                  "admin": _user_id(cursor, "admin"), "view": view, "change": change}

        # The many bench users: slot s goes to user floor(N·x²) for a uniform x, so a few
        # users hold thousands of grants and most a few dozen; 70 % view, 30 % change.
        cursor.execute(
            f"""WITH slots AS (SELECT generate_series(0, %(slots)s - 1) AS s),
                hashed AS ({_hashes("user-grant")}),
                users AS (SELECT id, row_number() OVER (ORDER BY username) - 1 AS n
                          FROM {t.user} WHERE username = ANY(%(names)s)),
                picked AS (
                    SELECT h.*, u.id AS user_id, {PICK}
                    JOIN users u ON u.n = floor(%(users)s * power(h.h1 / 4294967296.0, 2))),
                distinct_ AS (SELECT DISTINCT ON (user_id, asset_id) * FROM picked
                              ORDER BY user_id, asset_id, s)
                INSERT INTO access_assetusergrant (user_id, permission_id, content_object_id,
                    expires_at, reason, granted_by_id, granted_at)
                SELECT user_id, CASE WHEN h4 %% 10 < 7 THEN %(view)s ELSE %(change)s END,
                       asset_id, {EXPIRY}, %(reason)s, %(admin)s, {GRANTED_AT}
                FROM (SELECT * FROM distinct_ ORDER BY s LIMIT %(count)s) AS chosen""",
            {**common, "slots": int(bulk_grants * 1.05) + 100, "names": names,
             "users": len(names), "count": bulk_grants})
        lap("user_grants")

        # The designated officer: OFFICER_LIVE live view grants (80 % without expiry, the
        # rest expiring in five years or more), then OFFICER_EXPIRED expired ones.
        cursor.execute(
            f"""WITH slots AS (SELECT generate_series(0, %(slots)s - 1) AS s),
                hashed AS ({_hashes("officer-grant")}),
                picked AS (SELECT h.*, {PICK}),
                numbered AS (SELECT *, row_number() OVER (ORDER BY s) AS rn FROM (
                    SELECT DISTINCT ON (asset_id) * FROM picked ORDER BY asset_id, s) AS d)
                INSERT INTO access_assetusergrant (user_id, permission_id, content_object_id,
                    expires_at, reason, granted_by_id, granted_at)
                SELECT %(officer)s, %(view)s, asset_id,
                       CASE WHEN rn > %(live)s
                            THEN now() - make_interval(days => 1 + (h2 / 100)::int %% 200)
                            WHEN h4 %% 100 >= 80
                            THEN now() + make_interval(days => 1826 + (h2 / 100)::int %% 1000)
                       END,
                       %(reason)s, %(admin)s, {GRANTED_AT}
                FROM numbered WHERE rn <= %(live)s + %(expired)s""",
            {**common, "slots": int((OFFICER_LIVE + OFFICER_EXPIRED) * 1.1) + 100,
             "officer": officer_id, "live": OFFICER_LIVE, "expired": OFFICER_EXPIRED})
        lap("officer_grants")

        # Group grants: slot s goes to group s mod GROUPS; 80 % view, 20 % change.
        cursor.execute(
            f"""WITH slots AS (SELECT generate_series(0, %(slots)s - 1) AS s),
                hashed AS ({_hashes("group-grant")}),
                bench_groups AS (SELECT id, row_number() OVER (ORDER BY name) - 1 AS n
                                 FROM auth_group WHERE name = ANY(%(groups)s)),
                picked AS (SELECT h.*, g.id AS group_id, {PICK}
                           JOIN bench_groups g ON g.n = h.s %% {GROUPS}),
                distinct_ AS (SELECT DISTINCT ON (group_id, asset_id) * FROM picked
                              ORDER BY group_id, asset_id, s)
                INSERT INTO access_assetgroupgrant (group_id, permission_id, content_object_id,
                    expires_at, reason, granted_by_id, granted_at)
                SELECT group_id, CASE WHEN h4 %% 10 < 8 THEN %(view)s ELSE %(change)s END,
                       asset_id, {EXPIRY}, %(reason)s, %(admin)s, {GRANTED_AT}
                FROM (SELECT * FROM distinct_ ORDER BY s LIMIT %(count)s) AS chosen""",
            {**common, "slots": int(args.group_grants * 1.05) + 100, "groups": groups,
             "count": args.group_grants})
        lap("group_grants")
        cursor.execute("DROP TABLE bench_open, bench_closed")

    with connection.cursor() as cursor:
        for table in (t.user_grant, t.group_grant, t.user, t.membership, t.user_groups,
                      Group._meta.db_table):
            cursor.execute(f'VACUUM (ANALYZE) "{table}"')
    lap("vacuum_analyze")
    present = {
        "user_grants": AssetUserGrant.objects.filter(reason=GRANT_REASON).count(),
        "group_grants": AssetGroupGrant.objects.filter(reason=GRANT_REASON).count(),
        "officer_live_view": AssetUserGrant.objects.live().filter(
            user_id=officer_id, permission_id=view).count(),
    }
    if present != wanted:
        raise SystemExit(f"Grant seeding produced {present}, wanted {wanted}")
    return {"seeded": True, "present": present, "timings": timings,
            "total_seconds": round(sum(timings.values()), 2),
            "registrar_institution": registrar_at}


def _user_id(cursor, username: str) -> int:
    cursor.execute(f"SELECT id FROM {_tables().user} WHERE username = %s", [username])
    return cursor.fetchone()[0]


def county_institution(cursor) -> dict:
    """An institution in a county (not a district) holding the median number of assets
    among such institutions (commissions and CDCs aside); ties go to the lower credit code."""
    from catalog import demo

    cursor.execute(
        """WITH held AS (
               SELECT i.id, i.name, i.type, i.credit_code, r.code AS county, r.name AS county_name,
                      count(*) AS assets
               FROM accounts_institution i
               JOIN accounts_region r ON r.code = i.region_id
               JOIN catalog_dataasset a ON a.holder_id = i.id
               WHERE r.level = 'county' AND r.name LIKE '%%县' AND i.is_active
                 AND i.type NOT IN ('commission', 'cdc') AND i.credit_code ~ %s
               GROUP BY i.id, r.code)
           SELECT id, name, type, county, county_name, assets,
                  (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY assets) FROM held)
           FROM held
           ORDER BY abs(assets - (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY assets)
                                  FROM held)), credit_code
           LIMIT 1""",
        [demo.DEMO_CREDIT_CODE_RE])
    row = cursor.fetchone()
    if row is None:
        raise SystemExit("No institution in a county holds assets: seed a larger world.")
    keys = ["id", "name", "type", "county", "county_name", "assets", "median_assets"]
    return dict(zip(keys, row, strict=True))


def grant_summary() -> dict:
    """What the grant tables hold now (all grants, not only this script's)."""
    from django.db import connection

    t = _tables()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT count(*), count(*) FILTER (WHERE expires_at <= now()),
                       count(*) FILTER (WHERE expires_at > now()),
                       count(*) FILTER (WHERE p.codename = 'view_dataasset'),
                       count(DISTINCT g.user_id),
                       count(*) FILTER (WHERE a.status = 'registered'
                                        AND a.sharing_type = 'unconditional'
                                        AND a.open_attribute = 'open')
                FROM {t.user_grant} g JOIN auth_permission p ON p.id = g.permission_id
                JOIN catalog_dataasset a ON a.id = g.content_object_id""")
        users = dict(zip(["total", "expired", "future_expiry", "view", "grantees", "open"],
                         cursor.fetchone(), strict=True))
        cursor.execute(
            f"""SELECT count(*), count(*) FILTER (WHERE expires_at <= now()),
                       count(DISTINCT group_id),
                       (SELECT count(*) FROM {t.user_groups} ug
                        WHERE ug.group_id IN (SELECT group_id FROM {t.group_grant}))
                FROM {t.group_grant}""")
        groups = dict(zip(["total", "expired", "groups", "memberships"], cursor.fetchone(),
                          strict=True))
        cursor.execute(
            f"""SELECT max(n), percentile_disc(0.5) WITHIN GROUP (ORDER BY n) FROM
                (SELECT count(*) AS n FROM {t.user_grant} GROUP BY user_id) AS per_user""")
        most, median = cursor.fetchone()
    users.update(most_per_user=most, median_per_user=median)
    return {"user_grants": users, "group_grants": groups}


# --- Personas and measuring -----------------------------------------------------------------


def persona_users() -> dict:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import AnonymousUser

    users = {u.username: u for u in get_user_model().objects.filter(
        username__in=[REGISTRAR, "steward", OFFICER])}
    return {"county registrar": users[REGISTRAR], "steward": users["steward"],
            OFFICER: users[OFFICER], "anonymous": AnonymousUser()}


def _captured(run) -> tuple[object, list[str]]:
    """Call ``run`` and return its result with the catalog queries it sent."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        result = run()
    return result, [q["sql"] for q in captured.captured_queries
                    if classify(q["sql"]) in ("page", "facets")]


def measure_scope(user, runs: int) -> dict:
    """``visible_to(user)`` without the page: its count, and its first page as the view
    would fetch it (default sort, select_related), each timed directly and explained."""
    from django.conf import settings

    from catalog.models import DataAsset
    from catalog.pagination import DEFAULT_SORT, SORT_ORDERS, paginate

    order, size = SORT_ORDERS[DEFAULT_SORT], settings.CATALOG_PAGE_SIZE
    scope, count_sql = _captured(lambda: DataAsset.objects.visible_to(user).count())
    _page, page_sql = _captured(lambda: paginate(
        DataAsset.objects.visible_to(user).select_related("holder", "region_province"),
        order, None, size))
    found = {
        "scope": scope,
        "count": {"sql": count_sql[-1], **timed_sql(count_sql[-1], runs)},
        "first_page": {"sql": page_sql[-1], **timed_sql(page_sql[-1], runs)},
    }
    # Where the code paginates each branch of the scope apart (as the list view may), that
    # first page too.
    if (hasattr(DataAsset.objects, "scope_branches")
            and "branches" in inspect.signature(paginate).parameters):
        _page, page_sql = _captured(lambda: paginate(
            DataAsset.objects.select_related("holder", "region_province"), order, None, size,
            branches=DataAsset.objects.scope_branches(user)))
        if page_sql:
            found["first_page_branches"] = {"sql": page_sql[-1],
                                            **timed_sql(page_sql[-1], runs)}
    return found


def deep_cursor(user, scope: int) -> dict:
    """A cursor far into the user's own scope: after the row at DEEP_SHARE of it, or, when
    the scope has fewer than FOLLOW_PAGES + 1 pages, after following next links."""
    from django.conf import settings

    from catalog.models import DataAsset
    from catalog.pagination import DEFAULT_SORT, SORT_ORDERS, make_cursor, paginate

    order = SORT_ORDERS[DEFAULT_SORT]
    size = settings.CATALOG_PAGE_SIZE
    started = time.monotonic()
    qs = DataAsset.objects.visible_to(user)
    if scope >= size * (FOLLOW_PAGES + 1):
        row = max(1, math.ceil(scope * DEEP_SHARE))
        sign = "-" if order.descending else ""
        value, pk = (qs.order_by(f"{sign}{order.field}", f"{sign}pk")
                     .values_list(order.field, "pk")[row - 1])
        cursor = make_cursor("a", order, SimpleNamespace(**{order.field: value}, pk=pk))
        how = f"make_cursor at row {row:,} of {scope:,}"
    else:
        cursor, pages = None, 1
        for _ in range(FOLLOW_PAGES):
            page = paginate(qs, order, cursor, size)
            if page.next_cursor is None:
                break
            cursor, pages = page.next_cursor, pages + 1
        how = f"followed next links to page {pages} of a {scope:,}-row scope"
    return {"cursor": cursor, "how": how, "seconds": round(time.monotonic() - started, 2)}


def filtered_count(user, params: dict) -> tuple[int, int | None]:
    """The rows of the user's scope that pass the filters, and the planner's estimate of
    that number for the scope as one OR (EXPLAIN without ANALYZE)."""
    from django.db import connection

    from catalog.filtersets import DataAssetFilterSet
    from catalog.models import DataAsset

    filterset = DataAssetFilterSet(params, queryset=DataAsset.objects.visible_to(user))
    if not filterset.is_valid():
        return -1, None
    sql, sql_params = filterset.qs.order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", sql_params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return filterset.qs.count(), int(plan[0]["Plan"]["Plan Rows"])


def facets_url(params: dict) -> str | None:
    """The URL of the facet sidebar alone, where the code serves it apart from the page."""
    from django.urls import NoReverseMatch, reverse

    try:
        path = reverse("catalog:facets")
    except NoReverseMatch:
        return None
    params = {k: v for k, v in params.items() if k != "cursor"}
    return path + ("?" + urlencode(params) if params else "")


def measure_endpoint(client, url: str, runs: int) -> dict:
    """The facets endpoint as ``measure`` takes the page: warm-up, median of ``runs``, its
    counting SQL timed directly and explained."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")
    server, facet_db = [], []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            client.get(url)
            server.append((time.perf_counter() - started) * 1000)
        kinds = [(classify(q["sql"]), float(q["time"]) * 1000, q["sql"])
                 for q in captured.captured_queries]
        facet_db.append(sum(ms for kind, ms, _sql in kinds if kind == "facets"))
    queries = []
    for kind, in_view_ms, sql in kinds:
        entry = {"kind": kind, "in_view_ms": round(in_view_ms, 2), "sql": sql}
        if kind == "facets":
            entry.update(timed_sql(sql, runs))
        queries.append(entry)
    return {"url": url, "server_ms": round(statistics.median(server), 1),
            "facets_db_ms": round(statistics.median(facet_db), 1),
            "query_count": len(kinds), "queries": queries}


def warm_cache_ms(client, url: str, runs: int, cache_url: str, fill_url: str | None) -> dict:
    """The page with the facet cache on and filled by one earlier request (of the facets
    endpoint when there is one: a page that defers its counts does not count them). The
    facet cache key is the scoped SQL, the same in every database: the prefix keeps them
    apart."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, override_settings

    overrides: dict = {"CATALOG_FACET_CACHE_SECONDS": 600}
    if cache_url:
        overrides["CACHES"] = {"default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": cache_url,
            "KEY_PREFIX": f"hdc-bench-scoping-{connection.settings_dict['NAME']}"}}
    times = []
    with override_settings(**overrides):
        client.get(fill_url or url)  # counts and fills the cache
        for _ in range(runs):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                client.get(url)
                times.append((time.perf_counter() - started) * 1000)
    return {"server_ms": round(statistics.median(times), 1),
            "query_count": len(captured.captured_queries)}


# --- Reporting -------------------------------------------------------------------------------


def _explain(result: dict, kind: str) -> float:
    return round(sum(q.get("explain_ms") or 0 for q in result["queries"] if q["kind"] == kind),
                 1)


def _render(lines: list[list[str]], left: int) -> str:
    from catalog_list import _pad, _width

    widths = [max(_width(row[i]) for row in lines) for i in range(len(lines[0]))]
    out = []
    for number, row in enumerate(lines):
        out.append("  ".join(_pad(cell, width, right=i >= left)
                             for i, (cell, width) in enumerate(zip(row, widths, strict=True))))
        if number == 0:
            out.append("  ".join("-" * width for width in widths))
    return "\n".join(out)


def _all_queries(result: dict) -> list[dict]:
    """The page's queries and, when it deferred its counts, the facets endpoint's."""
    endpoint = result.get("facets_endpoint") or {}
    return result["queries"] + endpoint.get("queries", [])


def table(results: list[dict]) -> str:
    lines = [["persona", "case", "page ms", "facets ms", "rows SQL", "rows EXPLAIN",
              "facets SQL", "facets EXPLAIN", "estimate", "queries", "scope", "filtered",
              "planner est.", "warm cache ms"]]
    for r in results:
        endpoint = r.get("facets_endpoint")
        counted = endpoint or r
        estimate = sum(q["in_view_ms"] for q in r["queries"] if q["kind"] == "estimate")
        lines.append([
            r["persona"], r["case"], f"{r['server_ms']:,.1f}",
            f"{endpoint['server_ms']:,.1f}" if endpoint else "in page",
            f"{r['page_db_ms']:,.1f}", f"{_explain(r, 'page'):,.1f}",
            f"{counted['facets_db_ms']:,.1f}", f"{_explain(counted, 'facets'):,.1f}",
            f"{estimate:,.1f}" if estimate else "–",
            str(r["query_count"]) + (f"+{endpoint['query_count']}" if endpoint else ""),
            f"{r['scope']:,}", f"{r['filtered']:,}",
            "–" if r["estimated_rows"] is None else f"{r['estimated_rows']:,}",
            f"{r['warm']['server_ms']:,.1f}",
        ])
    return _render(lines, left=2)


def scope_table(scopes: dict) -> str:
    branches = any("first_page_branches" in s for s in scopes.values())
    lines = [["persona", "scope", "count: direct ms", "EXPLAIN", "first page: direct ms",
              "EXPLAIN"] + (["per-branch first page: direct ms", "EXPLAIN"] if branches else [])]
    for persona, s in scopes.items():
        row = [persona, f"{s['scope']:,}", f"{s['count']['direct_ms']:,.1f}",
               f"{s['count']['explain_ms']:,.1f}", f"{s['first_page']['direct_ms']:,.1f}",
               f"{s['first_page']['explain_ms']:,.1f}"]
        if branches:
            b = s.get("first_page_branches")
            row += [f"{b['direct_ms']:,.1f}", f"{b['explain_ms']:,.1f}"] if b else ["–", "–"]
        lines.append(row)
    return _render(lines, left=1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assets", type=int, default=1_000_000)
    parser.add_argument("--grants", type=int, default=100_000,
                        help="Explicit user grants (the designated officer's included).")
    parser.add_argument("--group-grants", type=int, default=5_000)
    parser.add_argument("--bench-users", type=int, default=2_000)
    parser.add_argument("--database", default="hdc_bench")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reuse", action="store_true",
                        help="Skip seeding when the database already has --assets assets.")
    parser.add_argument("--runs", type=int, default=5, help="Measured runs per case.")
    parser.add_argument("--cache-url", default="redis://127.0.0.1:6379/0",
                        help="Cache for the warm-cache runs ('' for the configured one).")
    parser.add_argument("--only", help="Only the personas whose name contains this text.")
    args = parser.parse_args()

    ensure_database(args.database)
    existing = _asset_count(args.database)
    recreated = False
    if existing and not (args.reuse and existing == args.assets):
        recreated = recreate_database(args.database)
        if not recreated:
            purge_bench_rows(args.database)
    configure(args.database, facet_cache=False)
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from catalog.models import DataAsset

    prepared = prepare(args.assets, args.seed, reuse=args.reuse)
    prepared["recreated_database"] = recreated
    started = time.monotonic()
    call_command("migrate", verbosity=0)  # migrations may have landed while seeding
    prepared["migrate_after_seconds"] = round(time.monotonic() - started, 1)
    assert settings.CATALOG_FACET_CACHE_SECONDS == 0
    grants = seed_grants(args)
    print(f"Grants: {'seeded' if grants['seeded'] else 'already there'} "
          f"{grants['present']} {grants['timings']}", flush=True)
    summary = grant_summary()
    env = environment(args.database)
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpages, pg_relation_size(oid) FROM pg_class "
                       "WHERE relname = 'catalog_dataasset'")
        env["catalog_dataasset_pages"], env["catalog_dataasset_bytes"] = cursor.fetchone()

    users = persona_users()
    personas = {name: users[name] for name in PERSONAS
                if not args.only or args.only in name}
    scopes, cursors, results = {}, {}, []
    for name, user in personas.items():
        scopes[name] = measure_scope(user, args.runs)
        cursors[name] = deep_cursor(user, scopes[name]["scope"])
        print(f"  {name:<18} scope {scopes[name]['scope']:>9,}  count "
              f"{scopes[name]['count']['explain_ms']:>8.1f} ms  first page "
              f"{scopes[name]['first_page']['explain_ms']:>8.1f} ms  "
              f"deep cursor: {cursors[name]['how']}", flush=True)

    for name, user in personas.items():
        client = Client()
        if user.is_authenticated:
            client.force_login(user)
        key = None if name == "anonymous" else name
        clients = {key: client, "_deep_cursor": cursors[name]["cursor"]}
        for case_name, params in CASES:
            case = Case(case_name, key, params, deep="row" if case_name == "deep page" else "")
            result = measure(case, clients, args.runs)
            endpoint = facets_url(params)
            deferred = endpoint and not any(q["kind"] == "facets" for q in result["queries"])
            filtered, estimated = filtered_count(user, params)
            result.update(
                persona=name, scope=scopes[name]["scope"], filtered=filtered,
                estimated_rows=estimated,
                facets_endpoint=measure_endpoint(client, endpoint, args.runs)
                if deferred else None,
                warm=warm_cache_ms(client, result["url"], args.runs, args.cache_url, endpoint),
            )
            results.append(result)
            print(f"  {name:<18} {case_name:<24} {result['server_ms']:>9.1f} ms  "
                  f"(warm cache {result['warm']['server_ms']:.1f} ms)", flush=True)

    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"scoping-{stamp}.json"
    path.write_text(json.dumps({
        "assets": DataAsset.objects.count(), "runs": args.runs, "prepared": prepared,
        "grant_seeding": grants, "grants": summary, "environment": env,
        "personas": {name: {"username": getattr(user, "username", "") or "anonymous",
                            "deep_cursor": cursors[name]} for name, user in personas.items()},
        "visible_to": scopes, "results": results,
    }, ensure_ascii=False, indent=1, default=str))

    print()
    print(f"{args.assets:,} assets · {summary['user_grants']['total']:,} user grants "
          f"({summary['user_grants']['expired']:,} expired) · "
          f"{summary['group_grants']['total']:,} group grants · "
          f"asset table {env['catalog_dataasset_bytes'] / 2**20:,.0f} MB · "
          f"{env['postgres'].split(' on ')[0]} · work_mem {env['work_mem']} · facet cache off "
          f"(warm: on) · median of {args.runs} runs, ms")
    print(table(results))
    print()
    print("visible_to(user) without the page:")
    print(scope_table(scopes))
    registrar = grants["registrar_institution"]
    print(f"\nCounty registrar: {registrar['name']} ({registrar['county_name']}, "
          f"{registrar['assets']} assets; median of county institutions "
          f"{registrar['median_assets']}).")
    users_, groups_ = summary["user_grants"], summary["group_grants"]
    print(f"User grants: {users_['total']:,} to {users_['grantees']:,} users (median "
          f"{users_['median_per_user']}, most {users_['most_per_user']:,} per user), "
          f"{users_['expired']:,} expired, {users_['future_expiry']:,} expiring later, "
          f"{users_['view']:,} view, {users_['open']:,} on open-catalog assets. Group grants: "
          f"{groups_['total']:,} to {groups_['groups']} groups ({groups_['memberships']:,} "
          f"memberships), {groups_['expired']:,} expired.")
    seeded = "seeded" if grants["seeded"] else "already there, not seeded"
    print(f"Grant generator ({seeded}): " + ", ".join(
        f"{step} {seconds:.2f} s" for step, seconds in grants["timings"].items()))
    if prepared.get("seeded"):
        print(f"seed_demo: {prepared['seed_seconds']} s; VACUUM ANALYZE "
              f"{prepared['vacuum_analyze_seconds']} s")
    for kind, label in (("page", "row"), ("facets", "facet")):
        slowest = max((q for r in results for q in _all_queries(r) if q["kind"] == kind),
                      key=lambda q: q.get("explain_ms") or 0, default=None)
        if slowest:
            owner = next(r for r in results if slowest in _all_queries(r))
            print(f"\nSlowest {label} query ({owner['persona']}, {owner['case']}; EXPLAIN "
                  f"{slowest['explain_ms']} ms):")
            print(slowest["sql"])
            print(slowest["plan"])
    print(f"\nWritten {path.relative_to(ROOT)}")
    return 0


def recreate_database(database: str) -> bool:
    """Drop and create the database before seeding it again. ``seed_demo --reset`` in place
    deletes the old assets and appends the new ones, leaving the table twice its size (half
    of it empty pages that every sequential scan still reads) until a VACUUM FULL. False,
    with nothing done, when someone else is connected to it."""
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres",
                         autocommit=True) as conn:
        try:
            conn.execute(f'DROP DATABASE "{database}"')
        except psycopg.errors.ObjectInUse:
            print(f"{database} is in use: reseeding in place (the asset table will be "
                  "bloated; results are slower than on a fresh database).", flush=True)
            return False
        conn.execute(f'CREATE DATABASE "{database}"')
    print(f"Recreated the database {database} for a fresh seed.", flush=True)
    return True


def _asset_count(database: str) -> int | None:
    import psycopg

    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{database}") as conn:
        if conn.execute("SELECT to_regclass('catalog_dataasset')").fetchone()[0] is None:
            return None
        return conn.execute("SELECT count(*) FROM catalog_dataasset").fetchone()[0]


if __name__ == "__main__":
    sys.exit(main())
