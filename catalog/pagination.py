"""Keyset pagination: a page is found by the sort key of its neighbour, not by an offset,
so the thousandth page costs what the first does."""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import operator
from dataclasses import dataclass
from functools import reduce

from django.db import connections
from django.db.models import Q
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class SortOrder:
    key: str
    label: str
    field: str  # a non-null column; ties are broken by id in the same direction
    descending: bool


SORT_ORDERS = {
    order.key: order
    for order in [
        SortOrder("-updated", _("Recently updated"), "updated_at", True),
        SortOrder("name", _("Name"), "name", False),
        SortOrder("code", _("Asset code"), "code", False),
        SortOrder("-grade", _("Highest grade"), "grade", True),
    ]
}
DEFAULT_SORT = "-updated"


class InvalidCursor(ValueError):
    pass


@dataclass
class Page:
    items: list
    next_cursor: str | None
    previous_cursor: str | None


def _encode(value) -> object:
    return value.isoformat() if isinstance(value, datetime.datetime) else value


def _decode(order: SortOrder, value):
    if isinstance(value, str) and "\x00" in value:
        raise InvalidCursor  # PostgreSQL refuses NUL in text: it would be a 500
    if order.field == "updated_at":
        try:
            parsed = parse_datetime(value) if isinstance(value, str) else None
        except ValueError:  # well formed but impossible, e.g. month 13
            parsed = None
        if parsed is None:
            raise InvalidCursor
        return parsed
    if order.field == "grade" and not isinstance(value, int):
        raise InvalidCursor
    if order.field in ("name", "code") and not isinstance(value, str):
        raise InvalidCursor
    return value


def make_cursor(direction: str, order: SortOrder, obj) -> str:
    payload = json.dumps([direction, _encode(getattr(obj, order.field)), obj.pk])
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def read_cursor(cursor: str, order: SortOrder) -> tuple[str, object, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        direction, value, pk = json.loads(raw)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise InvalidCursor from None
    if direction not in ("a", "b") or not isinstance(pk, int):
        raise InvalidCursor
    return direction, _decode(order, value), pk


def _beyond(order: SortOrder, value, pk: int, *, forward: bool) -> Q:
    """Rows after (forward) or before the row (value, pk) in the sort order.

    Written as ``field >= v AND (field > v OR id > pk)`` so that the index on (field, id)
    is entered at v rather than scanned from its start.
    """
    later = order.descending != forward  # True: larger values come later
    op, op_eq = ("gt", "gte") if later else ("lt", "lte")
    return Q(**{f"{order.field}__{op_eq}": value}) & (
        Q(**{f"{order.field}__{op}": value}) | Q(**{f"pk__{op}": pk})
    )


def paginate(
    queryset, order: SortOrder, cursor: str | None, size: int, *,
    branches: list[Q] | None = None,
) -> Page:
    """The page of ``size`` rows after (or before) ``cursor`` in ``order``.

    ``branches`` (from ``scope_branches``) are alternative conditions a row must meet one of;
    the caller passes ``queryset`` without them. On PostgreSQL each branch is paginated on
    its own, by id only, and the pages merged: one OR across branches of very different
    shapes (the open catalog, one institution, a province, a few granted assets) leaves the
    planner a single index walk that, for a filter matching few rows, reads the whole table.
    """
    direction, value, pk = read_cursor(cursor, order) if cursor else ("a", None, None)
    forward = direction == "a"
    descending = order.descending if forward else not order.descending
    sign = "-" if descending else ""
    ordering = (f"{sign}{order.field}", f"{sign}pk")
    qs = queryset.order_by(*ordering)
    if cursor:
        qs = qs.filter(_beyond(order, value, pk, forward=forward))
    rows = list(_limited(qs, branches, ordering, size + 1))
    more = len(rows) > size
    rows = rows[:size]
    if not forward:
        rows.reverse()
    if not rows:
        return Page([], None, None)
    has_next = more if forward else True
    has_previous = bool(cursor) if forward else more
    return Page(
        rows,
        make_cursor("a", order, rows[-1]) if has_next else None,
        make_cursor("b", order, rows[0]) if has_previous else None,
    )


def _limited(qs, branches: list[Q] | None, ordering: tuple[str, str], limit: int):
    if branches is None:
        return qs[:limit]
    if not branches:
        return qs.none()
    if not connections[qs.db].features.supports_slicing_ordering_in_compound:
        return qs.filter(reduce(operator.or_, branches))[:limit]
    # Each branch finds its first ids alone (an index-only walk where an index covers the
    # branch and its filters); only the merged page's rows are then read in full.
    heads = [qs.filter(branch).values("pk")[:limit] for branch in branches]
    merged = heads[0].union(*heads[1:], all=True) if len(heads) > 1 else heads[0]
    return qs.model._base_manager.using(qs.db).filter(pk__in=merged).select_related(
        *_related(qs)
    ).order_by(*ordering)[:limit]


def _related(qs) -> list[str]:
    related = qs.query.select_related
    if not isinstance(related, dict):
        return []
    paths = []

    def walk(tree: dict, prefix: str) -> None:
        for name, subtree in tree.items():
            paths.append(prefix + name)
            walk(subtree, f"{prefix}{name}__")

    walk(related, "")
    return paths
