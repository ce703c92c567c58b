"""Who changes the ledger, and why: carried from the request or job to every write.

Views and jobs wrap their writes in :func:`ledger_context`; the middleware sets the acting
user for every request. The model layer reads it when it records history, so that even a
bulk update made deep inside a service is attributed.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, replace

from django.http import HttpRequest, HttpResponse


@dataclass(frozen=True)
class LedgerContext:
    actor_id: int | None = None
    reason: str = ""
    request_id: str = ""


_EMPTY = LedgerContext()
_current: ContextVar[LedgerContext | None] = ContextVar("ledger_context", default=None)


def current() -> LedgerContext:
    return _current.get() or _EMPTY


@contextlib.contextmanager
def ledger_context(*, actor=None, reason: str | None = None) -> Iterator[LedgerContext]:
    """Attribute the ledger writes inside the block to ``actor`` with ``reason``."""
    outer = current()
    changes = {}
    if actor is not None:
        changes["actor_id"] = getattr(actor, "pk", actor)
    if reason is not None:
        changes["reason"] = reason
    token = _current.set(replace(outer, request_id=outer.request_id or uuid.uuid4().hex, **changes))
    try:
        yield current()
    finally:
        _current.reset(token)


def history_user(instance=None, request=None, **kwargs):
    """simple-history's ``get_user`` hook: the actor of the current ledger context."""
    from django.contrib.auth import get_user_model

    actor_id = current().actor_id
    if actor_id is None:
        return None
    return get_user_model()(pk=actor_id)


class LedgerContextMiddleware:
    """Sets the acting user and a request id for everything a request writes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        actor = user.pk if user is not None and user.is_authenticated else None
        token = _current.set(LedgerContext(actor_id=actor, request_id=uuid.uuid4().hex))
        try:
            return self.get_response(request)
        finally:
            _current.reset(token)
