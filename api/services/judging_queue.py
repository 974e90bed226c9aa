"""The hand-off from ingest to judging: probes with new results, judged in the background.

Ingest (agent results and push reports alike) only marks probes; one task per API
process judges every marked probe once per pass, however many results arrived for it
meanwhile. So a batch of 500 results for 50 probes costs 50 evaluations at most, off
the request path. Health is derived from stored results, so marks lost in a crash cost
nothing: the sweeper re-judges every probe on its clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from api import telemetry
from api.services.judging import reevaluate
from store.errors import DatabaseUnavailable
from store.pool import Pool

log = logging.getLogger(__name__)

RETRY_S = 1.0
"""Pause before retrying a pass the database refused."""

PASS_EVERY_S = 2.0
"""At most one pass per this many seconds. Each pass re-reads every marked probe's
recent history at all its locations. Measured with 50 agents (bench/api_ingest.py):
passes back to back took 24-35 % of each API process's CPU; lease p99 was 20.6-72.0 ms
with a pass a second and 22.9-51.7 ms with one every two seconds."""


class JudgingQueue:
    """Coalesces marked probes and judges them in passes until stopped."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self._pending: set[uuid.UUID] = set()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()

    def mark(self, probe_ids: Iterable[uuid.UUID]) -> None:
        """Ask for these probes to be judged soon (cheap; never blocks)."""
        self._pending.update(probe_ids)
        telemetry.HEALTH_PENDING.set(len(self._pending))
        if self._pending:
            self._idle.clear()
            self._wake.set()

    async def idle(self) -> None:
        """Wait until every marked probe has been judged."""
        await self._idle.wait()

    async def run(self, stop: asyncio.Event) -> None:
        """Judge marked probes pass after pass until ``stop`` is set."""
        stopping = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                woken = asyncio.create_task(self._wake.wait())
                await asyncio.wait({woken, stopping}, return_when=asyncio.FIRST_COMPLETED)
                woken.cancel()
                if not stop.is_set():
                    started = time.monotonic()
                    await self._pass(stop)
                    gap = PASS_EVERY_S - (time.monotonic() - started)
                    if gap > 0:
                        await asyncio.wait({stopping}, timeout=gap)
        finally:
            stopping.cancel()

    async def _pass(self, stop: asyncio.Event) -> None:
        self._wake.clear()
        batch, self._pending = self._pending, set()
        started = time.perf_counter()
        try:
            await reevaluate(self.pool, batch, datetime.now(UTC))
        except DatabaseUnavailable as exc:
            log.warning("health evaluation postponed: %s", exc)
            self.mark(batch)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RETRY_S)
            return
        telemetry.HEALTH_EVAL_SECONDS.observe(time.perf_counter() - started)
        telemetry.HEALTH_PENDING.set(len(self._pending))
        if not self._pending:
            self._idle.set()
