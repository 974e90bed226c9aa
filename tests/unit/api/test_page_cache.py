"""The page cache: one computation per expiry for all concurrent requests, per-slug drops."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any, TypeVar

import pytest

from api.public import cache as page_cache
from api.public.cache import PageCache

T = TypeVar("T")
KEY = ("acme", "view")


class Clock:
    """Stands in for ``time`` inside the module: only ``monotonic`` is read."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(page_cache, "time", SimpleNamespace(monotonic=fake.monotonic))
    return fake


class Source:
    """A compute function counting its calls; each call returns the next value.

    With ``gated`` every call waits for :meth:`release` (made inside the loop)."""

    def __init__(self, ttl: float = 10.0, *, gated: bool = False, fail: bool = False) -> None:
        self.ttl, self.gated, self.fail = ttl, gated, fail
        self.calls = 0
        self.gate: asyncio.Event | None = None

    def release(self) -> None:
        assert self.gate is not None
        self.gate.set()

    async def __call__(self) -> tuple[Any, float]:
        self.calls += 1
        number = self.calls
        if self.gated:
            if self.gate is None:
                self.gate = asyncio.Event()
            await self.gate.wait()
        else:
            await asyncio.sleep(0)
        if self.fail:
            raise RuntimeError(f"render {number} failed")
        return f"v{number}", self.ttl


def _run(scenario: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(scenario())  # type: ignore[arg-type]


async def _settle() -> None:
    """Let every task run up to its next real wait."""
    for _ in range(5):
        await asyncio.sleep(0)


def _spawn(
    cache: PageCache, key: tuple[str, Any], source: Source, n: int
) -> list[asyncio.Task[Any]]:
    return [asyncio.create_task(cache.get(key, source, "view")) for _ in range(n)]


# --- single flight -------------------------------------------------------------------------


@pytest.mark.parametrize("expired", [False, True], ids=["missing", "expired"])
def test_fifty_concurrent_requests_compute_once(clock: Clock, expired: bool) -> None:
    async def scenario() -> None:
        cache, source = PageCache(), Source(gated=True)
        if expired:
            warm = Source()
            assert await cache.get(KEY, warm, "view") == "v1"
            clock.now += 11
            source.calls = 1
        tasks = _spawn(cache, KEY, source, 50)
        await _settle()
        assert source.calls == (2 if expired else 1)
        assert not any(t.done() for t in tasks)
        source.release()
        values = await asyncio.gather(*tasks)
        expected = "v2" if expired else "v1"
        assert values == [expected] * 50
        assert cache.fresh(KEY) == expected
        assert await cache.get(KEY, source, "view") == expected
        assert source.calls == (2 if expired else 1)

    _run(scenario)


def test_after_the_ttl_exactly_one_more_compute(clock: Clock) -> None:
    async def scenario() -> None:
        cache, source = PageCache(), Source(ttl=10)
        assert await cache.get(KEY, source, "view") == "v1"
        clock.now += 9.999
        assert await cache.get(KEY, source, "view") == "v1"
        assert cache.fresh(KEY) == "v1"
        clock.now += 0.001  # expires at exactly t + ttl
        assert cache.fresh(KEY) is None
        values = await asyncio.gather(*_spawn(cache, KEY, source, 20))
        assert values == ["v2"] * 20 and source.calls == 2
        assert await cache.get(KEY, source, "view") == "v2"
        assert source.calls == 2

    _run(scenario)


def test_ttl_zero_computes_every_time_and_stores_nothing(clock: Clock) -> None:
    async def scenario() -> None:
        cache, source = PageCache(), Source(ttl=0)
        values = [await cache.get(KEY, source, "view") for _ in range(3)]
        assert values == ["v1", "v2", "v3"] and source.calls == 3
        assert cache.fresh(KEY) is None and cache._entries == {}

    _run(scenario)


def test_ttl_zero_still_shares_one_compute_among_concurrent_requests(clock: Clock) -> None:
    async def scenario() -> None:
        cache, source = PageCache(), Source(ttl=0, gated=True)
        tasks = _spawn(cache, KEY, source, 10)
        await _settle()
        source.release()
        assert await asyncio.gather(*tasks) == ["v1"] * 10
        assert source.calls == 1 and cache._entries == {}

    _run(scenario)


def test_a_failing_compute_reaches_every_waiter_and_is_not_cached(clock: Clock) -> None:
    async def scenario() -> None:
        cache, source = PageCache(), Source(gated=True, fail=True)
        tasks = _spawn(cache, KEY, source, 50)
        await _settle()
        source.release()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert source.calls == 1
        assert all(isinstance(r, RuntimeError) for r in results)
        assert {str(r) for r in results} == {"render 1 failed"}
        assert cache.fresh(KEY) is None and cache._entries == {}
        source.fail = False
        assert await cache.get(KEY, source, "view") == "v2"
        assert source.calls == 2 and cache.fresh(KEY) == "v2"

    _run(scenario)


def test_a_failing_recompute_serves_nothing_stale(clock: Clock) -> None:
    async def scenario() -> None:
        cache = PageCache()
        assert await cache.get(KEY, Source(), "view") == "v1"
        clock.now += 11
        with pytest.raises(RuntimeError):
            await cache.get(KEY, Source(fail=True), "view")
        assert cache.fresh(KEY) is None and not cache._pending

    _run(scenario)


def test_a_cancelled_waiter_does_not_cancel_the_compute(clock: Clock) -> None:
    async def scenario() -> None:
        cache, source = PageCache(), Source(gated=True)
        first, second = _spawn(cache, KEY, source, 2)
        await _settle()
        second.cancel()
        await _settle()
        source.release()
        assert await first == "v1"
        assert second.cancelled()
        assert cache.fresh(KEY) == "v1" and source.calls == 1

    _run(scenario)


# --- invalidation --------------------------------------------------------------------------


@pytest.mark.parametrize("slug", ["acme", ""], ids=["slug", "everything"])
def test_invalidate_during_a_compute_returns_but_does_not_store(clock: Clock, slug: str) -> None:
    async def scenario() -> None:
        cache, source = PageCache(), Source(gated=True)
        tasks = _spawn(cache, KEY, source, 5)
        await _settle()
        cache.invalidate(slug)
        source.release()
        assert await asyncio.gather(*tasks) == ["v1"] * 5
        assert cache.fresh(KEY) is None and KEY not in cache._entries
        source.gated = False
        assert await cache.get(KEY, source, "view") == "v2"
        assert source.calls == 2 and cache.fresh(KEY) == "v2"

    _run(scenario)


def test_a_request_after_invalidate_does_not_join_the_stale_compute(clock: Clock) -> None:
    async def scenario() -> None:
        cache = PageCache()
        stale, fresh = Source(gated=True), Source()
        before = asyncio.create_task(cache.get(KEY, stale, "view"))
        await _settle()
        cache.invalidate("acme")
        assert await cache.get(KEY, fresh, "view") == "v1"
        assert fresh.calls == 1 and cache.fresh(KEY) == "v1"
        stale.release()
        assert await before == "v1"
        assert cache.fresh(KEY) == "v1"  # the newer value, computed after the drop
        assert stale.calls == 1

    _run(scenario)


def test_invalidate_empty_drops_every_slug(clock: Clock) -> None:
    async def scenario() -> None:
        cache, source = PageCache(), Source()
        keys = [("acme", "view"), ("acme", ("badge", 1)), ("beta", "view"), ("gamma", "json")]
        for key in keys:
            await cache.get(key, source, "view")
        cache.invalidate("")
        assert all(cache.fresh(key) is None for key in keys) and cache._entries == {}
        await cache.get(("beta", "view"), source, "view")
        assert source.calls == len(keys) + 1

    _run(scenario)


SLUG_KEYS = {("acme", "view"), ("acme", ("sla", "2026-11")), ("acme2", "view"), ("beta", "view")}


@pytest.mark.parametrize(
    ("dropped", "gone"),
    [
        ("acme", {("acme", "view"), ("acme", ("sla", "2026-11"))}),
        ("acme2", {("acme2", "view")}),  # a slug is not a prefix match
        ("nobody", set()),
    ],
)
def test_invalidate_slug_leaves_other_slugs(
    clock: Clock, dropped: str, gone: set[tuple[str, Any]]
) -> None:
    kept = SLUG_KEYS - gone

    async def scenario() -> None:
        cache, source = PageCache(), Source()
        for key in sorted(gone | kept, key=repr):
            await cache.get(key, source, "view")
        calls = source.calls
        cache.invalidate(dropped)
        assert {key for key in gone | kept if cache.fresh(key) is not None} == kept
        for key in kept:
            await cache.get(key, source, "view")
        assert source.calls == calls

    _run(scenario)


def test_invalidate_slug_does_not_discard_other_slugs_in_flight(clock: Clock) -> None:
    async def scenario() -> None:
        cache, source = PageCache(), Source(gated=True)
        task = asyncio.create_task(cache.get(("beta", "view"), source, "view"))
        await _settle()
        cache.invalidate("acme")
        source.release()
        assert await task == "v1"
        assert cache.fresh(("beta", "view")) == "v1"

    _run(scenario)


# --- size ----------------------------------------------------------------------------------


def test_entries_beyond_max_entries_are_evicted_oldest_first(clock: Clock) -> None:
    async def scenario() -> None:
        cache, source = PageCache(max_entries=3), Source()
        keys = [("acme", n) for n in range(5)]
        for key in keys:
            await cache.get(key, source, "view")
            clock.now += 1
        assert len(cache._entries) == 3
        assert [cache.fresh(k) for k in keys] == [None, None, "v3", "v4", "v5"]
        assert await cache.get(keys[0], source, "view") == "v6"  # evicted: computed again
        assert [cache.fresh(k) for k in keys] == ["v6", None, None, "v4", "v5"]
        assert len(cache._entries) == 3

    _run(scenario)


def test_a_refreshed_entry_is_not_the_oldest(clock: Clock) -> None:
    """A value recomputed just now is the newest entry, not the first to be evicted."""

    async def scenario() -> None:
        cache, source = PageCache(max_entries=2), Source(ttl=10)
        first, second, third = ("acme", 1), ("acme", 2), ("acme", 3)
        await cache.get(first, source, "view")  # v1
        clock.now += 5
        await cache.get(second, source, "view")  # v2, expires at +15
        clock.now += 6  # first expired
        assert await cache.get(first, source, "view") == "v3"  # refreshed: now the newest
        await cache.get(third, source, "view")  # overflows: the oldest, second, should go
        assert cache.fresh(first) == "v3"
        assert cache.fresh(second) is None

    _run(scenario)


def test_evicting_does_not_break_single_flight(clock: Clock) -> None:
    """Eviction never drops a computation in flight: A is computed once."""

    async def scenario() -> None:
        cache = PageCache(max_entries=1)
        slow, quick = Source(gated=True), Source()
        a, b = ("acme", "view"), ("beta", "view")
        first = asyncio.create_task(cache.get(a, slow, "view"))
        await _settle()
        assert await cache.get(b, quick, "view") == "v1"
        second = asyncio.create_task(cache.get(a, slow, "view"))
        await _settle()
        slow.release()
        assert await asyncio.gather(first, second) == ["v1", "v1"]
        assert slow.calls == 1

    _run(scenario)


def test_a_stale_failure_does_not_drop_the_newer_compute(clock: Clock) -> None:
    """After invalidate, an older render failing leaves the newer one to its waiters."""

    async def scenario() -> None:
        cache = PageCache()
        old, new = Source(gated=True, fail=True), Source(gated=True)
        before = asyncio.create_task(cache.get(KEY, old, "view"))
        await _settle()
        cache.invalidate("acme")
        after = asyncio.create_task(cache.get(KEY, new, "view"))
        await _settle()
        old.release()
        with pytest.raises(RuntimeError):
            await before
        joined = asyncio.create_task(cache.get(KEY, new, "view"))
        await _settle()
        new.release()
        assert await asyncio.gather(after, joined) == ["v1", "v1"]
        assert new.calls == 1

    _run(scenario)


def test_cancelling_the_computing_request_does_not_cancel_its_waiters(clock: Clock) -> None:
    """The render runs as its own task: the request that started it may go away."""

    async def scenario() -> None:
        cache, source = PageCache(), Source(gated=True)
        computing, waiting = _spawn(cache, KEY, source, 2)
        await _settle()
        computing.cancel()
        await _settle()
        assert source.gate is not None
        source.release()
        await _settle()
        assert not waiting.cancelled()
        assert await waiting in {"v1", "v2"}

    _run(scenario)
