"""An in-process cache of public page renderings with one recomputation per expiry.

Keys start with the page's slug. When an entry expires, the first request starts
its recomputation as a task of its own and every request for the same key awaits
that one result (no stampede, and a client that goes away cancels nothing but
its own wait). Dropping a slug also discards results still being computed for
it, so a deleted page is never put back by a render in flight. No library offers
async single-flight with per-prefix invalidation (cachetools and aiocache lock
per process or per call, not per key), hence this module.
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

Key = tuple[str, Hashable]


@dataclass(slots=True)
class PageCache:
    """Values per key for the ttl their computation returns (0: not kept)."""

    max_entries: int = 4096
    _entries: dict[Key, tuple[Any, float]] = field(default_factory=dict)
    _pending: dict[Key, asyncio.Task[Any]] = field(default_factory=dict)
    _generations: dict[str, int] = field(default_factory=dict)
    _epoch: int = 0

    def __len__(self) -> int:
        return len(self._entries)

    def fresh(self, key: Key) -> Any | None:
        """The cached value if it has not expired."""
        entry = self._entries.get(key)
        if entry is not None and entry[1] > time.monotonic():
            return entry[0]
        return None

    def expires(self, key: Key) -> float | None:
        """When ``key``'s value expires (``time.monotonic()``), if it is cached."""
        entry = self._entries.get(key)
        return None if entry is None else entry[1]

    def remember(self, key: Key, value: Any, until: float) -> None:
        """Keep ``value`` under ``key`` until ``until`` (``time.monotonic()``)."""
        self._entries.pop(key, None)
        self._entries[key] = (value, until)
        self._evict()

    async def get(
        self, key: Key, compute: Callable[[], Awaitable[tuple[Any, float]]], kind: str
    ) -> Any:
        """The cached value, else ``compute()``'s (value, ttl), once for all waiters."""
        entry = self._entries.get(key)
        if entry is not None and entry[1] > time.monotonic():
            return entry[0]
        task = self._pending.get(key)
        if task is None:
            RENDERS.labels(kind).inc()
            task = asyncio.create_task(self._compute(key, compute))
            self._pending[key] = task
        return await asyncio.shield(task)

    async def _compute(self, key: Key, compute: Callable[[], Awaitable[tuple[Any, float]]]) -> Any:
        generation = self._generation(key[0])
        try:
            value, ttl = await compute()
        finally:
            if self._pending.get(key) is asyncio.current_task():
                del self._pending[key]
        if self._generation(key[0]) == generation and ttl > 0:
            self.remember(key, value, time.monotonic() + ttl)
        return value

    def invalidate(self, slug: str) -> None:
        """Forget everything about ``slug`` ('' forgets everything), including results
        of computations still running."""
        if not slug:
            self._epoch += 1
            self._entries.clear()
            self._pending.clear()
            return
        self._generations[slug] = self._generations.get(slug, 0) + 1
        for key in [k for k in self._entries if k[0] == slug]:
            del self._entries[key]
        for key in [k for k in self._pending if k[0] == slug]:
            del self._pending[key]

    def _evict(self) -> None:
        """Oldest first: :meth:`remember` re-inserts a key at the end."""
        while len(self._entries) > self.max_entries:
            del self._entries[next(iter(self._entries))]

    def _generation(self, slug: str) -> tuple[int, int]:
        return self._epoch, self._generations.get(slug, 0)
