"""When cached counts of a scope stop being true.

Facet counts are cached per scope and filter (``catalog.facets``). They stop being true when
an asset, a grant, a role or an account changes — every such write bumps one generation
number after its transaction commits — and when one of the user's grants runs out, which no
write announces: the user's next grant expiry is therefore part of the stamp too.
"""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

GENERATION_KEY = "catalog:scope-generation"


def generation() -> int:
    found = cache.get(GENERATION_KEY)
    if found is None:
        cache.add(GENERATION_KEY, 0, None)
        found = cache.get(GENERATION_KEY, 0)
    return found


def _bump() -> None:
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # not there (yet, or evicted): any new value invalidates
        cache.set(GENERATION_KEY, int(timezone.now().timestamp()), None)


def scope_changed(using: str = "default") -> None:
    """Something that decides what someone may see changed: after commit, forget counts."""
    transaction.on_commit(_bump, using=using)


def stamp(user) -> str:
    """What the cached counts of ``user``'s scope depend on besides their SQL."""
    from access.models import AssetGroupGrant, AssetUserGrant
    from accounts.scoping import is_signed_in

    parts = [str(generation())]
    if is_signed_in(user):
        now = timezone.now()
        nearest = [
            AssetUserGrant.objects.filter(user=user, expires_at__gt=now)
            .aggregate(at=Min("expires_at"))["at"],
            AssetGroupGrant.objects.filter(group__user=user, expires_at__gt=now)
            .aggregate(at=Min("expires_at"))["at"],
        ]
        upcoming = [at for at in nearest if at is not None]
        parts.append(min(upcoming).isoformat() if upcoming else "-")
    return "|".join(parts)
