"""Seed a deterministic demo world: institutions across China, demo users and data assets.

    python manage.py seed_demo [--assets N] [--seed S] [--reset | --if-empty]

The same ``--seed`` and ``--assets`` give the same world: the same institutions, asset codes,
names, grades and registration numbers (database ids and timestamps aside). Every asset and
data element is written with a history row attributed to the ``admin`` demo user with the
reason "演示数据生成".

Formats of the generated identifiers:

* asset code ``MD-<division>-<serial>``: the holder's six-digit GB/T 2260 division code
  (``000000`` for the national commission) and the asset's serial in the world, at least
  seven digits — ``MD-330102-0000123``;
* registration number ``<prefix>-<year>-<sequence>``: the holder's province as its
  ISO 3166-2:CN letters (``CN`` for national institutions), the year of registration and an
  eight-digit sequence per prefix and year — ``ZJ-2025-00001234``;
* unified social credit code ``<11|12|91><division>HD<7 digits><check>``: 11 for
  commissions (government organs), 12 for public institutions, 91 for enterprises; ``HD`` at
  positions 9–10 marks a demo institution, which is how ``--reset`` finds them.

Every registered asset's holder gets the holding right (from the registration date), and many
assets further rights — processing and use, the patients' personal rights, a provincial CDC's
bounded use — with a few deliberate problems for the rights review (``catalog.demo``, "Rights
allocations"); these are written with INSERT … SELECT, whatever the world's size.

On PostgreSQL the assets are written with COPY (:func:`copy_assets`), which writes exactly
the rows ``DataAsset.objects.bulk_create`` would — derived search document and region
copies, history rows with actor and reason; a million assets take about two and a half
minutes on two cores (bench/README.md). Elsewhere (SQLite) they go through the ORM.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
import unicodedata
from collections.abc import Callable, Iterator
from datetime import timedelta
from itertools import islice

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, models, transaction
from django.utils import timezone
from psycopg.copy import QueuedLibpqWriter

from accounts.choices import InstitutionType
from accounts.models import Institution, Membership, Region
from accounts.scoping import Action
from catalog import demo
from catalog.choices import AssetStatus, SharingType
from catalog.history import current, ledger_context
from catalog.models import CatalogClass, DataAsset, DataElement
from rights.models import RightsAllocation

ORM_BATCH = 2_000
COPY_BATCH = 50_000
COPY_CHUNK = 2_000  # rows sent to the server at a time
# Tables whose secondary indexes and foreign keys are rebuilt after a COPY load.
BULK_TABLES = [DataAsset, DataAsset.history.model, DataElement, DataElement.history.model]


class Command(BaseCommand):
    help = (
        "Create a deterministic demo world: institutions across China, demo users and "
        "--assets data assets with their history. Refuses to run on a database that already "
        "has assets unless --reset (remove the previous demo world, its assets and their "
        "history first) or --if-empty (do nothing then) is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--assets", type=int, default=2_000,
                            help="Number of data assets to create (default 2000).")
        parser.add_argument("--seed", type=int, default=2026,
                            help="Seed of the world; the same seed and size give the same world.")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--reset", action="store_true",
                          help="Delete the existing demo world (assets, history, institutions, "
                               "users) first.")
        mode.add_argument("--if-empty", action="store_true",
                          help="Do nothing (successfully) when the database already has assets.")
        parser.add_argument("--method", choices=["auto", "orm", "copy"], default="auto",
                            help="How to write the assets: COPY on PostgreSQL (auto), or the "
                                 "ORM's bulk_create.")

    def handle(self, *args, assets: int, seed: int, reset: bool, if_empty: bool, method: str,
               verbosity: int, **options) -> None:
        if assets < 0:
            raise CommandError("--assets cannot be negative.")
        postgres = connection.vendor == "postgresql"
        if method == "auto":
            method = "copy" if postgres else "orm"
        if method == "copy" and not postgres:
            raise CommandError("--method copy needs PostgreSQL.")
        self.verbosity = verbosity
        started = time.monotonic()

        existing = DataAsset.objects.count()
        if if_empty and existing:
            self.say(f"The database already has {existing:,} data assets; no demo data loaded.")
            self.print_logins()
            return
        if reset:
            self.reset()
        else:
            self.refuse_to_mix(existing)

        regions = [demo.RegionRow(*row) for row in Region.objects.values_list(
            "code", "name", "level", "parent_id", "province_id", "city_id")]
        if not regions:
            raise CommandError("The region table is empty: run `manage.py migrate` first.")
        world = demo.plan_institutions(regions, assets, seed)
        bulk = bulk_load(BULK_TABLES) if method == "copy" else contextlib.nullcontext()
        with transaction.atomic():
            with bulk:
                institution_ids = create_institutions(world)
                users = create_users(world, institution_ids)
                self.say(f"{len(world.institutions):,} institutions and {len(users)} users "
                         f"({time.monotonic() - started:.1f} s).", level=2)
                admin = users["admin"]
                registrar = users["registrar"]
                hospital = world.by_name[next(u.institution for u in demo.DEMO_USERS
                                              if u.username == "registrar")]
                factory = demo.AssetFactory(
                    world, seed=seed, total=assets, institution_ids=institution_ids,
                    class_ids=dict(CatalogClass.objects.values_list("code", "id")),
                    responsible_users={hospital.index: (registrar.pk, registrar.full_name)},
                    now=timezone.now(),
                )
                with ledger_context(actor=admin, reason=demo.DEMO_REASON):
                    loader = copy_assets if method == "copy" else orm_assets
                    loader(factory, world, progress=self.progress(assets, started))
            if method == "copy":
                self.say(f"Indexes and foreign keys rebuilt ({time.monotonic() - started:.1f} s).",
                         level=2)
            grant_demo_access(users)
            allocations = allocate_demo_rights(world, institution_ids, users, seed=seed,
                                               bulk=method == "copy")
            self.say(f"{allocations:,} rights allocations "
                     f"({time.monotonic() - started:.1f} s).", level=2)
        if postgres:
            with connection.cursor() as cursor:
                for model in (Institution, DataAsset, DataAsset.history.model, DataElement,
                              DataElement.history.model, RightsAllocation,
                              RightsAllocation.history.model):
                    cursor.execute(f'ANALYZE "{model._meta.db_table}"')
        elapsed = time.monotonic() - started
        self.say(f"Demo world (seed {seed}): {assets:,} assets, {len(world.institutions):,} "
                 f"institutions, {len(users)} users, written with {method} in {elapsed:.1f} s.")
        self.print_logins()

    # --- Guarding and resetting -------------------------------------------------------------

    def refuse_to_mix(self, existing: int) -> None:
        if existing:
            raise CommandError(
                f"The database already has {existing:,} data assets. Run with --reset to "
                "replace the demo world, or --if-empty to leave a non-empty database alone.")
        users = list(get_user_model().objects.filter(username__in=demo.DEMO_USERNAMES)
                     .values_list("username", flat=True))
        if users:
            raise CommandError(
                f"Users named like the demo users already exist ({', '.join(sorted(users))}). "
                "Run with --reset to replace them.")
        if demo_institutions().exists():
            raise CommandError("Demo institutions already exist. Run with --reset to replace "
                               "them.")

    def reset(self) -> None:
        """Delete the demo world: its assets with their elements and history, institutions
        and the demo users. Rows elsewhere that point at demo assets go through the ORM."""
        started = time.monotonic()
        institutions = demo_institutions()
        assets = DataAsset.objects.filter(holder__in=institutions)
        history_models = {DataAsset.history.model, DataElement.history.model}
        raw_deleted = {DataElement, RightsAllocation}  # millions of rows: no ORM delete
        with transaction.atomic():
            count, institution_count = assets.count(), institutions.count()
            asset_ids = assets.values("pk")
            for queryset in (
                RightsAllocation.history.model.objects.filter(asset_id__in=asset_ids),
                RightsAllocation.objects.filter(asset__in=asset_ids),
            ):
                queryset._raw_delete(queryset.db)
            for relation in DataAsset._meta.related_objects:
                related = relation.related_model
                if related in history_models or related in raw_deleted:
                    continue
                related._base_manager.filter(**{f"{relation.field.name}__in": assets}).delete()
            for queryset in (
                DataElement.history.model.objects.filter(asset_id__in=asset_ids),
                DataElement.objects.filter(asset__in=asset_ids),
                DataAsset.history.model.objects.filter(id__in=asset_ids),
                DataAsset.objects.filter(pk__in=asset_ids),
            ):
                queryset._raw_delete(queryset.db)
            Membership.objects.filter(institution__in=institutions).delete()
            get_user_model().objects.filter(username__in=demo.DEMO_USERNAMES).delete()
            institutions.update(parent=None)
            institutions.delete()
        self.say(f"Removed the demo world: {count:,} assets with their history, "
                 f"{institution_count:,} institutions and the demo users "
                 f"({time.monotonic() - started:.1f} s).")

    # --- Output --------------------------------------------------------------------------

    def say(self, message: str, *, level: int = 1) -> None:
        if self.verbosity >= level:
            self.stdout.write(message)

    def progress(self, total: int, started: float) -> Callable[[int], None]:
        def report(done: int) -> None:
            if self.verbosity >= 2:
                elapsed = time.monotonic() - started
                self.stdout.write(f"  {done:>10,} / {total:,} assets  {elapsed:6.1f} s")
        return report

    def print_logins(self) -> None:
        if self.verbosity < 1:
            return
        User = get_user_model()
        users = {u.username: u for u in User.objects.filter(username__in=demo.DEMO_USERNAMES)}
        if not users:
            return
        holders = dict(Institution.objects.filter(
            name__in=[u.institution for u in demo.DEMO_USERS if u.institution]
        ).values_list("name", "pk"))
        hints = {
            "admin": "/admin/",
            "steward": "/catalog/?region=330000  ·  /admin/",
            "county_steward": f"/catalog/?region={demo.CHUNAN}",
            "staff": f"/catalog/?region={demo.HANGZHOU}",
            "inst_admin": "/accounts/institutions/",
            "ph_officer": "/catalog/",
            "auditor": "/audit/",
        }
        rows = [("URL", "username", "role", "institution", "password")]
        for spec in demo.DEMO_USERS:
            if spec.username not in users:
                continue
            hint = hints.get(spec.username) or f"/catalog/?holder={holders.get(spec.institution)}"
            role = "superuser" if spec.is_superuser else spec.role.label
            rows.append((hint, spec.username, str(role), spec.institution or "—",
                         demo.DEMO_PASSWORD))
        widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
        self.stdout.write("")
        self.stdout.write("Demo logins (all share one password); the catalog is at "
                          "http://127.0.0.1:8000/catalog/")
        for number, row in enumerate(rows):
            self.stdout.write("  " + "  ".join(_pad(cell, width) for cell, width in
                                                 zip(row, widths, strict=True)).rstrip())
            if number == 0:
                self.stdout.write("  " + "  ".join("-" * width for width in widths))


def demo_institutions() -> models.QuerySet:
    return Institution.objects.filter(credit_code__regex=demo.DEMO_CREDIT_CODE_RE)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


# --- Institutions and users --------------------------------------------------------------------


def create_institutions(world: demo.World) -> dict[int, int]:
    """Insert the planned institutions, parents before children; their ids by plan index."""
    specs = world.institutions
    depth: dict[int, int] = {}

    def depth_of(spec: demo.InstitutionSpec) -> int:
        if spec.index not in depth:
            depth[spec.index] = 0 if spec.parent is None else depth_of(specs[spec.parent]) + 1
        return depth[spec.index]

    ids: dict[int, int] = {}
    for level in sorted({depth_of(spec) for spec in specs}):
        batch = [spec for spec in specs if depth[spec.index] == level]
        created = Institution.objects.bulk_create([
            Institution(name=spec.name, credit_code=spec.credit_code, type=spec.type,
                        region_id=spec.region,
                        parent_id=ids[spec.parent] if spec.parent is not None else None)
            for spec in batch
        ], batch_size=ORM_BATCH)
        ids.update((spec.index, obj.pk) for spec, obj in zip(batch, created, strict=True))
    return ids


def create_users(world: demo.World, institution_ids: dict[int, int]) -> dict[str, models.Model]:
    """The demo users with their memberships, sharing the one demo password."""
    User = get_user_model()
    password = make_password(demo.DEMO_PASSWORD)
    users = {}
    for spec in demo.DEMO_USERS:
        user = User.objects.create(
            username=spec.username, full_name=spec.full_name, password=password,
            email=f"{spec.username}@demo.example.cn", is_staff=spec.is_staff,
            is_superuser=spec.is_superuser,
        )
        if spec.institution:
            Membership.objects.create(
                user=user, role=spec.role,
                institution_id=institution_ids[world.by_name[spec.institution].index],
            )
        users[spec.username] = user
    return users


def grant_demo_access(users: dict[str, models.Model]) -> None:
    """The public-health officer's explicit grants, given by the provincial steward through
    the same operation as the access page: live view grants on a few conditionally shared
    assets of the province's tertiary hospitals, and one that has run out."""
    from access.services import grant as grant_access

    steward, officer = users["steward"], users["ph_officer"]
    shared = list(
        DataAsset.objects.restrict(steward, Action.GRANT)
        .filter(sharing_type=SharingType.CONDITIONAL, status=AssetStatus.REGISTERED,
                holder__type=InstitutionType.TERTIARY_HOSPITAL)
        .order_by("code").values_list("pk", flat=True)[: len(DEMO_GRANTS) + 1]
    )
    for pk, (days, reason) in zip(shared, DEMO_GRANTS, strict=False):
        grant_access(pk, officer, "view_dataasset",
                     expires_at=timezone.now() + timedelta(days=days), reason=reason,
                     actor=steward)
    if len(shared) > len(DEMO_GRANTS):
        expired = grant_access(shared[-1], officer, "view_dataasset",
                               expires_at=timezone.now() + timedelta(days=1),
                               reason="流感监测季度协查（已结束）", actor=steward)
        type(expired).objects.filter(pk=expired.pk).update(
            expires_at=timezone.now() - timedelta(days=30))


# Days each demo grant lasts, and why it was given.
DEMO_GRANTS = [
    (180, "传染病监测协作项目（浙卫函〔2026〕12号）"),
    (180, "传染病监测协作项目（浙卫函〔2026〕12号）"),
    (90, "慢性病防控专题分析，经省卫健委批准"),
    (365, "突发公共卫生事件应急数据共享协议"),
    (30, "疫苗接种率核查"),
]


# --- Writing the assets ------------------------------------------------------------------------


def orm_assets(factory: demo.AssetFactory, world: demo.World, *,
               progress: Callable[[int], None]) -> None:
    """Write the assets with ``DataAsset.objects.bulk_create``, which records their history."""
    context = current()
    actor = get_user_model()(pk=context.actor_id) if context.actor_id else None
    done = 0
    for batch in factory.batches(ORM_BATCH):
        assets = DataAsset.objects.bulk_create(
            [DataAsset(**row) for row in batch.rows], batch_size=ORM_BATCH)
        elements = [
            DataElement(asset_id=asset.pk, **element)
            for asset, asset_elements in zip(assets, batch.elements, strict=True)
            for element in asset_elements
        ]
        if elements:
            created = DataElement.objects.bulk_create(elements, batch_size=ORM_BATCH)
            DataElement.history.bulk_history_create(
                created, default_user=actor, default_change_reason=context.reason,
                batch_size=ORM_BATCH)
        done += len(batch.rows)
        progress(done)


_NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_needs_escape = re.compile(r"[\\\t\n\r]").search


def _text(value) -> str:
    if value is None:
        return _NULL
    value = str(value)
    return value.translate(_ESCAPES) if _needs_escape(value) else value


def _converter(field: models.Field) -> Callable[[object], str]:
    """How a value of ``field`` is spelled in COPY's text format."""
    if isinstance(field, models.JSONField):
        spelled: dict[tuple, str] = {}  # the lists repeat: spell each once

        def json_text(value) -> str:
            if value is None:
                return _NULL
            key = tuple(value) if isinstance(value, list) else None
            if key is None or key not in spelled:
                text = _text(json.dumps(value, ensure_ascii=False))
                if key is None:
                    return text
                spelled[key] = text
            return spelled[key]

        return json_text
    if isinstance(field, models.BooleanField):
        return lambda v: _NULL if v is None else ("t" if v else "f")
    if isinstance(field, models.DateField):  # also DateTimeField
        return lambda v: _NULL if v is None else v.isoformat()
    if isinstance(field, models.CharField | models.TextField):
        return _text
    return lambda v: _NULL if v is None else str(v)


class _CopyTable:
    """COPY rows (dicts by attname) into one model's table. Columns a row does not carry
    get the field's default, as an INSERT through the ORM would."""

    def __init__(self, model: type[models.Model]):
        self.fields = list(model._meta.concrete_fields)
        self.columns = [(f.attname, _converter(f)) for f in self.fields]
        names = ", ".join(_quote(f.column) for f in self.fields)
        self.sql = f"COPY {_quote(model._meta.db_table)} ({names}) FROM STDIN"
        self.defaults: list[tuple[str, object]] | None = None

    def lines(self, rows: list[dict]) -> str:
        """The rows in COPY's text format."""
        if self.defaults is None:
            self.defaults = [(f.attname, f.get_default()) for f in self.fields
                             if f.attname not in rows[0]]
        columns, defaults, lines = self.columns, self.defaults, []
        for row in rows:
            for name, value in defaults:
                row.setdefault(name, value)
            lines.append("\t".join([convert(row[name]) for name, convert in columns]))
        lines.append("")
        return "\n".join(lines)

    def write(self, cursor, rows: list[dict]) -> None:
        with cursor.copy(self.sql) as copy:
            for start in range(0, len(rows), COPY_CHUNK):
                copy.write(self.lines(rows[start:start + COPY_CHUNK]))


def _record_history(
    cursor, model: type[models.Model], ids: list[int], *, actor_id: int | None, reason: str
) -> None:
    """Write the ``+`` history rows of freshly inserted rows from the rows themselves, as
    ``bulk_history_create`` would: a copy of every tracked field, dated like the row."""
    insert, params = _history_insert(model, actor_id=actor_id, reason=reason)
    cursor.execute(  # identifiers come from model metadata, values are parameters
        f"{insert} WHERE {_quote(model._meta.pk.column)} BETWEEN %s AND %s "
        f"AND {_quote(model._meta.pk.column)} = ANY(%s)",
        [*params, min(ids), max(ids), ids],
    )


def _history_insert(
    model: type[models.Model], *, actor_id: int | None, reason: str
) -> tuple[str, list]:
    """``INSERT INTO <history> (…) SELECT … FROM <table>`` without its WHERE clause, and
    its parameters: the ``+`` history rows of the rows it will select."""
    history = model.history.model
    table_columns = {f.column for f in model._meta.concrete_fields}
    date_column = "updated_at" if "updated_at" in table_columns else None
    targets, values, params = [], [], []
    for field in history._meta.concrete_fields:
        if field.attname == "history_id":
            continue
        targets.append(_quote(field.column))
        if field.column in table_columns:
            values.append(_quote(field.column))
        elif field.attname == "history_date":
            values.append(_quote(date_column) if date_column else "now()")
        elif field.attname == "history_type":
            values.append("'+'")
        elif field.attname in ("history_change_reason", "history_user_id"):
            values.append("%s")
            params.append(reason if field.attname == "history_change_reason" else actor_id)
        else:
            raise CommandError(f"Do not know how to fill {history.__name__}.{field.attname}.")
    # Identifiers come from model metadata, values are parameters.
    sql = (f"INSERT INTO {_quote(history._meta.db_table)} ({', '.join(targets)}) "  # noqa: S608
           f"SELECT {', '.join(values)} FROM {_quote(model._meta.db_table)}")
    return sql, params


@contextlib.contextmanager
def bulk_load(models_: list[type[models.Model]]) -> Iterator[None]:
    """Load with the tables' secondary B-tree indexes and foreign keys dropped, then recreate
    them from their own definitions, the way pg_restore loads data.

    Primary keys and unique constraints stay, so duplicates still fail at once. GIN indexes
    stay too: their pending list absorbs the inserts while the server would otherwise wait
    for the generator, which is cheaper than building them afterwards. Use inside a
    transaction: a failure rolls the drops back too.
    """
    tables = [m._meta.db_table for m in models_]
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
               FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])
               ORDER BY 1, 2""", [tables])
        foreign_keys = cursor.fetchall()
        cursor.execute(
            """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), am.amname
               FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
               JOIN pg_am am ON am.oid = c.relam
               WHERE i.indrelid = ANY(%s::regclass[]) AND NOT EXISTS (
                   SELECT 1 FROM pg_constraint WHERE conindid = i.indexrelid)
               ORDER BY 1""", [tables])
        indexes = cursor.fetchall()
        dropped = [(name, definition) for name, definition, method in indexes if method != "gin"]
        kept_gin = [name for name, _definition, method in indexes if method == "gin"]
        for table, name, _definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {_quote(name)}")
        for name, _definition in dropped:
            cursor.execute(f"DROP INDEX {name}")
        # Fewer, larger merges of the GIN pending lists (their memory is work_mem).
        cursor.execute("SET LOCAL gin_pending_list_limit = '64MB'")
        cursor.execute("SET LOCAL work_mem = '256MB'")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending checks before ALTER
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for name in kept_gin:
            cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [name])
        for _name, definition in dropped:
            cursor.execute(definition)
        for table, name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {_quote(name)} {definition}")


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _next_ids(cursor, model: type[models.Model], count: int) -> list[int]:
    """Take ``count`` ids from the table's sequence, as INSERTs would."""
    if not count:
        return []
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
        [model._meta.db_table, model._meta.pk.column, count],
    )
    return sorted(row[0] for row in cursor.fetchall())


def copy_assets(factory: demo.AssetFactory, world: demo.World, *,
                progress: Callable[[int], None]) -> None:
    """Write the assets, data elements and their history rows with PostgreSQL's COPY.

    The rows are those ``DataAsset.objects.bulk_create`` and
    ``DataElement.history.bulk_history_create`` would write: the search document and region
    copies as ``refresh_derived_fields()`` computes them, created/updated by the acting user,
    and one history row per object (``+``, dated like the row, with the ledger context's
    actor and reason). Rows are generated while the server reads the previous ones.
    """
    context = current()
    reason, actor_id = context.reason or "", context.actor_id
    region_copies = {}
    for holder in factory.holders:
        code = holder.spec.region
        row = world.regions[code] if code else None
        region_copies[holder.pk] = (code, row.province, row.city) if row else (None, None, None)
    search_fields = DataAsset.SEARCH_FIELDS
    assets_table, elements_table = _CopyTable(DataAsset), _CopyTable(DataElement)
    chunks = factory.batches(COPY_CHUNK)
    done = 0
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor
        while done < factory.total:
            ids = _next_ids(cursor, DataAsset, min(COPY_BATCH, factory.total - done))
            free_ids = iter(ids)
            elements = []
            with cursor.copy(assets_table.sql, writer=QueuedLibpqWriter(cursor)) as copy:
                for chunk in islice(chunks, -(-len(ids) // COPY_CHUNK)):
                    now = timezone.now()
                    for tick, (row, asset_elements) in enumerate(
                        zip(chunk.rows, chunk.elements, strict=True)
                    ):
                        pk = next(free_ids)
                        region, province, city = region_copies[row["holder_id"]]
                        stamp = now + timedelta(microseconds=tick)
                        row.update(
                            id=pk, search_document=factory.search_document(row, search_fields),
                            region_id=region, region_province_id=province,
                            region_city_id=city, version=1, created_at=stamp,
                            updated_at=stamp, created_by_id=actor_id, updated_by_id=actor_id,
                        )
                        for element in asset_elements:
                            element["asset_id"] = pk
                            elements.append(element)
                    copy.write(assets_table.lines(chunk.rows))
            _record_history(cursor, DataAsset, ids, actor_id=actor_id, reason=reason)
            if elements:
                element_ids = _next_ids(cursor, DataElement, len(elements))
                for element, pk in zip(elements, element_ids, strict=True):
                    element["id"] = pk
                elements_table.write(cursor, elements)
                _record_history(cursor, DataElement, element_ids, actor_id=actor_id,
                                reason=reason)
            done += len(ids)
            progress(done)


# --- Rights allocations ----------------------------------------------------------------------


def allocate_demo_rights(
    world: demo.World, institution_ids: dict[int, int], users: dict[str, models.Model], *,
    seed: int, bulk: bool,
) -> int:
    """The demo world's rights allocations (see ``demo.RIGHTS_PROBLEMS`` and the shares in
    ``catalog.demo``), written set-based: one INSERT … SELECT over the assets per kind of
    allocation, then their ``+`` history rows in one more; the few deliberate problems go
    through the ORM. Returns how many allocations were written."""
    today = timezone.localdate()
    cdc_id = institution_ids[world.by_name["浙江省疾病预防控制中心"].index]
    planted = _problem_assets(users["steward"], seed)
    with connection.cursor() as cursor:
        table = _quote(RightsAllocation._meta.db_table)
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
        before = cursor.fetchone()[0]
        context = bulk_load([RightsAllocation, RightsAllocation.history.model]) if bulk \
            else contextlib.nullcontext()
        with context:
            for sql, params in _allocation_inserts(
                seed, today, actor_id=users["admin"].pk, no_holder=planted.get("no_holder", [])
            ):
                cursor.execute(sql, params)
            insert, params = _history_insert(
                RightsAllocation, actor_id=users["admin"].pk, reason=demo.DEMO_REASON)
            cursor.execute(f"{insert} WHERE id > %s", [*params, before])
    with ledger_context(actor=users["admin"], reason=demo.DEMO_REASON):
        _plant_problems(planted, cdc_id, today)
    return RightsAllocation.objects.filter(pk__gt=before).count()


def _problem_assets(steward, seed: int) -> dict[str, list[tuple[int, int, object]]]:
    """(asset id, holder id, registered at) of distinct assets in the steward's province for
    each deliberate problem, drawn from the first few hundred by code."""
    import random

    registered = DataAsset.objects.restrict(steward, Action.ALLOCATE).filter(
        status=AssetStatus.REGISTERED).order_by("code")
    fields = ("pk", "holder_id", "registered_at")
    candidates = list(registered.filter(
        holder__type__in=demo.MEDICAL_TYPES, grade__lte=4).values_list(*fields)[:400])
    rng = random.Random(f"{seed}:rights-problems")  # noqa: S311 - reproducible, not secret
    wanted = sum(count for kind, count in demo.RIGHTS_PROBLEMS if kind != "grade5_product")
    drawn = iter(rng.sample(candidates, min(wanted, len(candidates))))
    planted: dict[str, list] = {}
    for kind, count in demo.RIGHTS_PROBLEMS:
        if kind == "grade5_product":
            planted[kind] = list(registered.filter(grade=5).values_list(*fields)[:count])
        else:
            planted[kind] = list(islice(drawn, count))
    return planted


def _plant_problems(planted: dict[str, list], cdc_id: int, today) -> None:
    def valid_from(registered_at, until=None):
        start = timezone.localtime(registered_at).date()
        return min(start, until) if until else start

    def cdc_use(asset_id, registered_at, until):
        return RightsAllocation(
            asset_id=asset_id, party_kind="institution", party_institution_id=cdc_id,
            right="process_use", legal_basis=demo.CDC_BASIS, purpose=demo.CDC_PURPOSE,
            scope=demo.CDC_SCOPE, valid_from=valid_from(registered_at, until),
            valid_until=until)

    rows = []
    for asset_id, _holder, registered_at in planted.get("cdc_unbounded", []):
        rows.append(cdc_use(asset_id, registered_at, None))
    for (asset_id, _holder, registered_at), days in zip(
        planted.get("expired", []), demo.EXPIRED_DAYS_AGO, strict=False
    ):
        rows.append(cdc_use(asset_id, registered_at, today - timedelta(days=days)))
    for (asset_id, _holder, registered_at), days in zip(
        planted.get("expiring", []), demo.EXPIRING_IN_DAYS, strict=False
    ):
        rows.append(cdc_use(asset_id, registered_at, today + timedelta(days=days)))
    for asset_id, _holder, registered_at in planted.get("subject_resource", []):
        rows.append(RightsAllocation(
            asset_id=asset_id, party_kind="data_subjects", party_description=demo.SUBJECT_GROUP,
            right="process_use", legal_basis=demo.USE_BASIS, purpose=demo.USE_PURPOSE,
            valid_from=valid_from(registered_at)))
    for asset_id, holder_id, registered_at in planted.get("grade5_product", []):
        rows.append(RightsAllocation(
            asset_id=asset_id, party_kind="institution", party_institution_id=holder_id,
            right="product_operate", legal_basis=demo.PRODUCT_BASIS,
            purpose=demo.PRODUCT_PURPOSE, valid_from=valid_from(registered_at)))
    for row in rows:
        row.save()  # not full_clean(): these break the rules on purpose


def _allocation_inserts(
    seed: int, today, *, actor_id: int, no_holder: list
) -> Iterator[tuple[str, list]]:
    """The INSERT … SELECT statements (and parameters) of the ordinary allocations."""
    streams = demo.rights_streams(seed)
    now = timezone.now()
    columns = ("asset_id", "party_kind", "party_institution_id", "party_description", "right",
               "legal_basis", "purpose", "scope", "valid_from", "valid_until", "status",
               "created_at", "updated_at", "created_by_id")
    head = (f"INSERT INTO {_quote(RightsAllocation._meta.db_table)} "  # noqa: S608
            f"({', '.join(_quote(c) for c in columns)}) ")
    start_sql, start_params = _local_date_sql("a.registered_at")

    def draw(stream: str) -> str:
        multiplier, offset = streams[stream]  # integers from demo.rights_streams
        # %% is a literal % beside the query's parameters.
        return f"((CAST(SUBSTR(a.code, 11) AS BIGINT) * {multiplier} + {offset}) %% 1000)"

    base_from = (f"FROM {_quote(DataAsset._meta.db_table)} a "
                 f"JOIN {_quote(Institution._meta.db_table)} h ON h.id = a.holder_id")
    base_where = "WHERE a.status = %s AND h.credit_code LIKE %s"
    base_params = [AssetStatus.REGISTERED.value, "________" + demo.DEMO_CREDIT_MARKER + "%"]
    stamp = [now, now, actor_id]

    # The holding right, to the holder, from the registration date.
    cases = " ".join("WHEN %s THEN %s" for _type in demo.HOLD_BASES)
    case_params = [str(value) for item in demo.HOLD_BASES.items() for value in item]
    hospital_types = [str(type_) for type_ in demo.HOSPITAL_TYPES]
    medical_types = [str(type_) for type_ in demo.MEDICAL_TYPES]
    excluded = ""
    if no_holder:
        excluded = f" AND a.id NOT IN ({', '.join('%s' for _row in no_holder)})"
    yield (
        f"{head}SELECT a.id, 'institution', a.holder_id, '', 'hold', "
        f"CASE h.type {cases} ELSE %s END, '', '', {start_sql}, NULL, 'active', %s, %s, %s "
        f"{base_from} {base_where}{excluded}",
        [*case_params, demo.HOLD_BASIS, *start_params, *stamp, *base_params,
         *(row[0] for row in no_holder)],
    )
    # Processing and use, to the holder.
    yield (
        f"{head}SELECT a.id, 'institution', a.holder_id, '', 'process_use', %s, %s, %s, "
        f"{start_sql}, NULL, 'active', %s, %s, %s {base_from} {base_where} "
        f"AND {draw('use')} < %s",
        [demo.USE_BASIS, demo.USE_PURPOSE, demo.USE_SCOPE, *start_params, *stamp,
         *base_params, demo.USE_SHARE],
    )
    # The patients' personal rights over hospitals' personal data.
    rights = " UNION ALL ".join("SELECT %s AS r" for _right in demo.SUBJECT_RIGHTS)
    types = ", ".join("%s" for _type in demo.HOSPITAL_TYPES)
    yield (
        f"{head}SELECT a.id, 'data_subjects', NULL, %s, s.r, %s, '', '', {start_sql}, NULL, "
        f"'active', %s, %s, %s {base_from} CROSS JOIN ({rights}) s {base_where} "
        f"AND a.contains_personal_info AND h.type IN ({types}) AND {draw('subjects')} < %s",
        [demo.SUBJECT_GROUP, demo.SUBJECT_BASIS, *start_params, *stamp,
         *demo.SUBJECT_RIGHTS, *base_params, *hospital_types, demo.SUBJECT_SHARE],
    )
    # Surveillance by the provincial CDC: a purpose, an end date, nothing more than use.
    types = ", ".join("%s" for _type in demo.MEDICAL_TYPES)
    terms = [today + timedelta(days=days) for days in demo.CDC_TERMS_DAYS]
    yield (
        f"{head}SELECT a.id, 'institution', c.id, '', 'process_use', %s, %s, %s, {start_sql}, "
        f"CASE {draw('term')} %% 3 WHEN 0 THEN %s WHEN 1 THEN %s ELSE %s END, 'active', "
        f"%s, %s, %s {base_from} JOIN {_quote(Institution._meta.db_table)} c "
        f"ON c.region_id = a.region_province_id AND c.type = %s AND c.credit_code LIKE %s "
        f"{base_where} AND h.type IN ({types}) AND a.grade <= 4 AND {draw('cdc')} < %s",
        [demo.CDC_BASIS, demo.CDC_PURPOSE, demo.CDC_SCOPE, *start_params, *terms, *stamp,
         InstitutionType.CDC.value, base_params[1], *base_params, *medical_types,
         demo.CDC_SHARE],
    )
    # Product operation of enterprises' data of grade 4 or lower.
    yield (
        f"{head}SELECT a.id, 'institution', a.holder_id, '', 'product_operate', %s, %s, '', "
        f"{start_sql}, NULL, 'active', %s, %s, %s {base_from} {base_where} "
        f"AND h.type = %s AND a.grade <= 4 AND {draw('product')} < %s",
        [demo.PRODUCT_BASIS, demo.PRODUCT_PURPOSE, *start_params, *stamp, *base_params,
         InstitutionType.ENTERPRISE.value, demo.PRODUCT_SHARE],
    )


def _local_date_sql(column: str) -> tuple[str, list]:
    """SQL for the local calendar date of a timestamp column, and its parameters."""
    if connection.vendor == "postgresql":
        return f"CAST(({column} AT TIME ZONE %s) AS DATE)", [settings.TIME_ZONE]
    # SQLite keeps UTC text; the zone's offset now (the commission's zones keep no DST).
    offset = timezone.localtime().utcoffset() or timedelta()
    return f"DATE({column}, %s)", [f"{int(offset.total_seconds() // 60):+d} minutes"]
