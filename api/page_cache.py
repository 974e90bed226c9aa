"""An in-process cache of public page renderings with one recomputation per expiry.

Keys start with the page's slug. When an entry expires, the first request
recomputes it and every concurrent request for the same key awaits that one
result (no stampede). Dropping a slug also discards results still being
computed for it, so a deleted page is never put back by a render in flight.
No library offers async single-flight with per-prefix invalidation (cachetools
and aiocache lock per process or per call, not per key), hence this module.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter

RENDERS = Counter(
    "callprobe_page_renders", "Public page renderings computed (cache misses)", ["kind"]
)


@dataclass(slots=True)
class _Entry:
    value: Any = None
    expires: float = 0.0
    pending: asyncio.Future[Any] | None = None
    generation: tuple[int, int] = (0, 0)


@dataclass(slots=True)
class PageCache:
    """Values per key for ``ttl`` seconds (0: never cached, always recomputed)."""

    max_entries: int = 4096
    _entries: dict[tuple[str, Hashable], _Entry] = field(default_factory=dict)
    _generations: dict[str, int] = field(default_factory=dict)
    _epoch: int = 0

    def fresh(self, key: tuple[str, Hashable]) -> Any | None:
        """The cached value if it has not expired."""
        entry = self._entries.get(key)
        if entry is not None and entry.expires > time.monotonic():
            return entry.value
        return None

    async def get(
        self,
        key: tuple[str, Hashable],
        compute: Callable[[], Awaitable[tuple[Any, float]]],
        kind: str,
    ) -> Any:
        """The cached value, else ``compute()``'s (value, ttl), once for all waiters."""
        entry = self._entries.get(key)
        now = time.monotonic()
        if entry is not None and entry.expires > now:
            return entry.value
        if entry is not None and entry.pending is not None:
            return await asyncio.shield(entry.pending)
        return await self._compute(key, compute, kind)

    async def _compute(
        self,
        key: tuple[str, Hashable],
        compute: Callable[[], Awaitable[tuple[Any, float]]],
        kind: str,
    ) -> Any:
        slug = key[0]
        generation = self._generation(slug)
        entry = self._entries.setdefault(key, _Entry(generation=generation))
        pending: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        entry.pending = pending
        RENDERS.labels(kind).inc()
        try:
            value, ttl = await compute()
        except BaseException as exc:
            pending.set_exception(exc)
            pending.exception()  # retrieved: waiters re-raise it, nobody else must
            self._entries.pop(key, None)
            raise
        pending.set_result(value)
        if self._generation(slug) == generation and ttl > 0:
            self._entries[key] = _Entry(value, time.monotonic() + ttl, None, generation)
            self._evict()
        elif self._entries.get(key) is entry:
            del self._entries[key]
        return value

    def invalidate(self, slug: str) -> None:
        """Forget everything about ``slug`` ('' forgets everything)."""
        if not slug:
            self._epoch += 1
            self._entries.clear()
            return
        self._generations[slug] = self._generations.get(slug, 0) + 1
        for key in [k for k in self._entries if k[0] == slug]:
            del self._entries[key]

    def _generation(self, slug: str) -> tuple[int, int]:
        return self._epoch, self._generations.get(slug, 0)

    def _evict(self) -> None:
        while len(self._entries) > self.max_entries:
            del self._entries[next(iter(self._entries))]
