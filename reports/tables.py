"""The row lists of the exports: the asset list and the current findings of a report's scope.

Both are read straight from the database in primary-key order through a server-side cursor,
so an export of millions of rows holds one batch in memory at a time. The CSV and XLSX
writers share these columns; every text cell is neutralised (``registry.bulk.neutralise``)
so that no value is run as a spreadsheet formula.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db import connections
from django.db.models import Max, Min, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.choices import InstitutionType
from catalog.choices import (
    AssetStatus,
    DataCategory,
    Purpose,
    SecurityClass,
    SharingType,
    UpdateFrequency,
)
from inventory.choices import CURRENT_STATUSES, FindingRule, FindingStatus, Severity
from inventory.models import Finding
from registry.bulk import neutralise

BATCH = 5_000  # rows fetched per round trip
PROGRESS_EVERY = 20_000  # rows between two progress reports


@dataclass(frozen=True)
class Column:
    header: object  # a lazy translation
    field: str  # the values_list path
    kind: str = "text"  # text, choice, multi, int, datetime
    choices: type | None = None
    width: int = 16  # the XLSX column width, in characters


ASSET_COLUMNS = [
    Column(_("Code"), "code", width=18),
    Column(_("Name"), "name", width=36),
    Column(_("Holding institution"), "holder__name", width=30),
    Column(_("Institution type"), "holder__type", "choice", InstitutionType),
    Column(_("Province"), "region_province__name", width=12),
    Column(_("City"), "region_city__name", width=12),
    Column(_("Region"), "region__name", width=12),
    Column(_("Data categories"), "categories", "multi", DataCategory, width=24),
    Column(_("Sensitivity grade"), "grade", "int", width=10),
    Column(_("Data-security class (GB/T 43697)"), "security_class", "choice", SecurityClass),
    Column(_("Sharing type"), "sharing_type", "choice", SharingType, width=12),
    Column(_("Update frequency"), "update_frequency", "choice", UpdateFrequency, width=10),
    Column(_("Last data update"), "last_data_update", "datetime"),
    Column(_("Records"), "record_count", "int", width=14),
    Column(_("Storage location"), "storage_location", width=24),
    Column(_("Source system"), "source_system", width=20),
    Column(_("Purposes"), "purposes", "multi", Purpose, width=20),
    Column(_("Status"), "status", "choice", AssetStatus, width=10),
    Column(_("Registered at"), "registered_at", "datetime"),
]

FINDING_COLUMNS = [
    Column(_("Finding"), "rule", "choice", FindingRule, width=30),
    Column(_("Severity"), "severity", "choice", Severity, width=8),
    Column(_("Status"), "status", "choice", FindingStatus, width=10),
    Column(_("Asset code"), "asset__code", width=18),
    Column(_("Asset"), "asset__name", width=36),
    Column(_("Institution"), "institution__name", width=30),
    Column(_("First seen"), "first_seen_at", "datetime"),
    Column(_("Last seen"), "last_seen_at", "datetime"),
]


def headers(columns: list[Column]) -> list[str]:
    return [str(column.header) for column in columns]


def _converter(column: Column) -> Callable:
    """How a column's stored value becomes a cell (labels in the active language)."""
    if column.kind == "choice":
        labels = {value: str(label) for value, label in column.choices.choices}
        return lambda value: labels.get(value, value if value is not None else "")
    if column.kind == "multi":  # in the enumeration's order, as the SQL path joins them
        labels = {value: str(label) for value, label in column.choices.choices}
        order = {value: position for position, value in enumerate(labels)}
        return lambda values: "、".join(
            labels.get(v, v) for v in sorted(values or [], key=lambda v: order.get(v, len(order)))
        )
    if column.kind == "datetime":
        zone = timezone.get_current_timezone()

        def when(value: datetime | None):
            if value is None:
                return ""
            local = value.astimezone(zone).replace(tzinfo=None)
            return local.strftime("%Y-%m-%d %H:%M")
        return when
    if column.kind == "int":
        return lambda value: value if value is not None else ""
    return lambda value: neutralise(value) if value else ""


def rows(
    queryset: QuerySet, columns: list[Column], *,
    progress: Callable[[int], None] | None = None,
) -> Iterator[list]:
    """The cells of ``queryset`` (already scoped) for ``columns``, in primary-key order.
    ``progress`` is told the number of rows written so far every ``PROGRESS_EVERY`` rows."""
    converters = [_converter(column) for column in columns]
    pairs = list(enumerate(converters))
    values = queryset.order_by("pk").values_list(*[column.field for column in columns])
    done = 0
    for record in values.iterator(chunk_size=BATCH):
        yield [convert(record[index]) for index, convert in pairs]
        done += 1
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done)
    if progress is not None:
        progress(done)


def current_findings(assets: QuerySet) -> QuerySet:
    """The current findings on ``assets``."""
    return Finding.objects.filter(
        asset__in=assets.values("pk"), status__in=CURRENT_STATUSES
    ).order_by()


# --- The same cells computed by PostgreSQL ----------------------------------------------------
#
# At millions of rows, turning values into cells in Python costs more than the export may
# take. On PostgreSQL the cells are made by the query itself from the same columns: labels
# from the enumerations, lists joined, times in the local zone, text neutralised. The CSV is
# then PostgreSQL's own COPY output and the XLSX receives ready strings and numbers.

FORMULA_PATTERN = r"^[-=+@\t\r]"  # registry.bulk.FORMULA_PREFIXES as a regular expression


def _label_values(choices) -> tuple[str, list]:
    rows = ", ".join("(%s, %s, %s)" for _c in choices.choices)
    params = []
    for position, (value, label) in enumerate(choices.choices):
        params += [str(value), str(label), position]
    return f"(VALUES {rows})", params


def _sql_cell(column: Column, ref: str, zone: str) -> tuple[str, list]:
    if column.kind == "choice":
        whens = " ".join("WHEN %s THEN %s" for _c in column.choices.choices)
        params = [str(part) for choice in column.choices.choices for part in choice]
        return f"COALESCE(CASE {ref}::text {whens} ELSE {ref}::text END, '')", params
    if column.kind == "multi":
        labels, params = _label_values(column.choices)
        return (f"COALESCE((SELECT string_agg(COALESCE(l.label, e.code), '、' ORDER BY l.ord) "  # noqa: S608, E501
                f"FROM jsonb_array_elements_text({ref}) AS e(code) "
                f"LEFT JOIN {labels} AS l(code, label, ord) ON l.code = e.code), '')"), params
    if column.kind == "datetime":
        return f"COALESCE(to_char({ref} AT TIME ZONE %s, 'YYYY-MM-DD HH24:MI'), '')", [zone]
    if column.kind == "int":
        return ref, []
    return (f"CASE WHEN {ref} ~ %s THEN '''' || {ref} ELSE COALESCE({ref}, '') END",
            [FORMULA_PATTERN])


def cells_sql(queryset: QuerySet, columns: list[Column], *, with_pk: bool = False
              ) -> tuple[str, list]:
    """One query whose rows are the cells of ``queryset`` for ``columns``, in primary-key
    order (PostgreSQL); ``with_pk``: the primary key first."""
    fields = (["pk"] if with_pk else []) + [column.field for column in columns]
    inner = queryset.order_by("pk").values_list(*fields)
    inner_sql, inner_params = inner.query.sql_with_params()
    names = (["pk"] if with_pk else []) + [f"c{index}" for index in range(len(columns))]
    zone = timezone.get_current_timezone_name()
    select, params = (["t.pk"] if with_pk else []), []
    for column, name in zip(columns, names[1:] if with_pk else names, strict=True):
        expression, expression_params = _sql_cell(column, f"t.{name}", zone)
        select.append(expression)
        params += expression_params
    sql = (f"SELECT {', '.join(select)} FROM ({inner_sql}) AS t({', '.join(names)})")  # noqa: S608
    return sql, params + list(inner_params)


def is_postgresql(queryset: QuerySet) -> bool:
    return connections[queryset.db].vendor == "postgresql"


COPY_SPAN = 250_000  # ids per COPY statement: the progress is told between two


def copy_csv(queryset: QuerySet, columns: list[Column], out,
             progress: Callable[[int], None] | None = None) -> None:
    """The cells of ``queryset`` as CSV rows (no header) written to the binary ``out`` by
    PostgreSQL's COPY, one span of ids at a time (the connection is busy during a COPY: the
    progress is written between two)."""
    bounds = queryset.aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        return
    done = 0
    with connections[queryset.db].cursor() as cursor:
        for low in range(bounds["low"], bounds["high"] + 1, COPY_SPAN):
            span = queryset.filter(pk__gte=low, pk__lt=low + COPY_SPAN)
            sql, params = cells_sql(span, columns)
            with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
                for data in copy:
                    out.write(data)
                    done += bytes(data).count(b"\n")
            if progress is not None:
                progress(done)


def sql_rows(queryset: QuerySet, columns: list[Column],
             progress: Callable[[int], None] | None = None) -> Iterator[tuple]:
    """The cells of ``queryset`` made by PostgreSQL, through a server-side cursor (held
    outside a transaction, so the progress written between two fetches is seen at once)."""
    sql, params = cells_sql(queryset, columns)
    connection = connections[queryset.db]
    connection.ensure_connection()
    done = 0
    with connection.connection.cursor(
        name=f"report_rows_{id(queryset):x}", withhold=connection.get_autocommit()
    ) as cursor:
        cursor.itersize = BATCH
        cursor.execute(sql, params)
        for record in cursor:
            yield record
            done += 1
            if progress is not None and done % PROGRESS_EVERY == 0:
                progress(done)
    if progress is not None:
        progress(done)
