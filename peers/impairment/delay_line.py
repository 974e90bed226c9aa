"""Runs send actions at their planned times, strictly in (time, submission) order.

One timer for the earliest entry instead of one `call_at` per packet:
asyncio does not keep equal-time timers in submission order, and the exact
reorder count in `schedule` relies on that order.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable

Action = Callable[[], None]


class DelayLine:
    """A time-ordered queue of actions on the running loop's clock."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._heap: list[tuple[float, int, Action]] = []
        self._order = itertools.count()
        self._timer: asyncio.TimerHandle | None = None

    def submit(self, at: float, action: Action) -> None:
        """Run `action` at loop time `at` (at once if due and nothing waits before it)."""
        if not self._heap and at <= self._loop.time():
            action()
            return
        entry = (at, next(self._order), action)
        heapq.heappush(self._heap, entry)
        if self._heap[0] is entry:
            self._arm()

    def flush(self) -> None:
        """Run everything still waiting, now (used when a call or the relay stops)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._heap:
            heapq.heappop(self._heap)[2]()

    def _arm(self) -> None:
        """(Re)schedule the single timer for the earliest entry."""
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._loop.call_at(self._heap[0][0], self._run_due)

    def _run_due(self) -> None:
        """Run every due entry in order, then re-arm for the next one."""
        self._timer = None
        now = self._loop.time()
        while self._heap and self._heap[0][0] <= now:
            heapq.heappop(self._heap)[2]()
        if self._heap:
            self._arm()
