"""Request rates for the API: the anonymous public by address, signed-in users by account.

DRF's throttles keep each client's request times as one list in the cache, read and written
whole on every request (two round trips per throttle, and a list as long as the rate: up to
1,200 timestamps for a signed-in user). These count requests per fixed window instead, one
atomic increment per request, and each request meets exactly one of them: the anonymous
throttle for the public, the user throttle for everyone signed in.
"""

from __future__ import annotations

import time
from functools import cache as once

import redis
from django.conf import settings
from django.core.cache import cache
from rest_framework import throttling


def _redis() -> redis.Redis | None:
    """The cache's Redis (the counters live beside the other cached values), or None when
    the cache is another backend (settings are read each time: tests change them)."""
    configured = settings.CACHES["default"]
    if not configured["BACKEND"].endswith("RedisCache"):
        return None
    return _client(configured["LOCATION"])


@once
def _client(location: str) -> redis.Redis:
    return redis.Redis.from_url(location)


def count(key: str, window: int) -> int:
    """Add one to ``key``'s count of this window and return it; the count lives ``window``
    seconds past its first request."""
    client = _redis()
    if client is None:  # the embedded mode's in-process cache
        if cache.add(key, 1, window):
            return 1
        try:
            return cache.incr(key)
        except ValueError:  # expired in between
            cache.add(key, 1, window)
            return 1
    full_key = cache.make_key(key)
    pipeline = client.pipeline(transaction=False)
    pipeline.incr(full_key)
    pipeline.expire(full_key, window, nx=True)
    found, _expiry_set = pipeline.execute()
    return found


class WindowRateThrottle(throttling.SimpleRateThrottle):
    """At most ``num_requests`` per window of ``duration`` seconds, counted per window."""

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        ident = self.get_cache_key(request, view)
        if ident is None:
            return True
        self.now = time.time()
        window = int(self.now // self.duration)
        self.window_end = (window + 1) * self.duration
        return count(f"{ident}:{window}", self.duration) <= self.num_requests

    def wait(self) -> float:
        """Seconds until the current window ends and the count starts afresh."""
        return max(self.window_end - self.now, 0.001)


class AnonRateThrottle(WindowRateThrottle, throttling.AnonRateThrottle):
    """The anonymous public, by client address (``anon`` rate)."""


class UserRateThrottle(WindowRateThrottle, throttling.UserRateThrottle):
    """Signed-in users, by account (``user`` rate); the public meets the anonymous one."""

    def get_cache_key(self, request, view) -> str | None:
        if not (request.user and request.user.is_authenticated):
            return None
        return super().get_cache_key(request, view)
