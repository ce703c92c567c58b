"""The anonymous public's asset list pages, cached.

Everyone without an account sees the same list (the open catalog, without contact details),
so a page of it is made once and kept, keyed by its whole URL and language, until anything
that could change it is written: the key carries the catalog's generation number
(``catalog.freshness``), which every write to an asset, an institution or a catalog class
bumps after its transaction commits. ``API_PUBLIC_CACHE_SECONDS`` bounds a page's life
besides (0: no cache).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import get_language

from catalog.freshness import generation


def public_page(request, make: Callable[[], dict]) -> dict:
    """The page ``request`` asks for: from the cache, or made by ``make`` and kept."""
    seconds = settings.API_PUBLIC_CACHE_SECONDS
    if seconds <= 0 or request.user.is_authenticated:
        return make()
    key = "api:public:{}:{}:{}".format(
        generation(), get_language() or "", request.build_absolute_uri()
    )
    found = cache.get(key)
    if found is None:
        found = make()
        cache.set(key, found, seconds)
    return found
