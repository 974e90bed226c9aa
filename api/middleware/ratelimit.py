"""Per-caller request limits: the ``limits`` library's moving window, in process memory.

Each API process counts on its own, so N replicas allow up to N times the rate;
that bounds abuse of unauthenticated routes without a shared store.
"""

from __future__ import annotations

import math
import time

from fastapi import HTTPException
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter


def parse_rate(rate: str) -> RateLimitItem:
    """``"60/minute"`` and the like; ValueError with the accepted form otherwise."""
    try:
        return parse(rate)
    except ValueError as exc:
        raise ValueError(f"{rate!r} is not a rate such as '60/minute' or '5/second'") from exc


class RateLimiter:
    """Allows ``rate`` requests per moving window for each key of one scope (the
    scope names what a key is, e.g. "push token", in the 429 message)."""

    def __init__(self, scope: str, rate: str) -> None:
        self.scope = scope
        self.item = parse_rate(rate)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    async def check(self, key: str) -> None:
        """Count a request; over the limit, 429 with ``Retry-After`` seconds."""
        if not await self._limiter.hit(self.item, self.scope, key):
            raise await self._refusal(key)

    async def refuse_if_spent(self, key: str) -> None:
        """429 when ``key`` has used up its window, without counting this request."""
        if not await self._limiter.test(self.item, self.scope, key):
            raise await self._refusal(key)

    async def count(self, key: str) -> None:
        """Count one event against ``key`` (refused later by :meth:`refuse_if_spent`)."""
        await self._limiter.hit(self.item, self.scope, key)

    async def _refusal(self, key: str) -> HTTPException:
        stats = await self._limiter.get_window_stats(self.item, self.scope, key)
        retry = max(1, math.ceil(stats.reset_time - time.time()))
        return HTTPException(
            429,
            f"too many requests: at most {self.item} per {self.scope}",
            headers={"Retry-After": str(retry)},
        )
