"""Mark the locations whose silence changes their health, on a clock.

Results drive health as they arrive; only the clock can notice that none came. Judging
keeps, per (probe, location), when time alone next changes its verdict (stale, push
dead, its history ageing out: ``location_verdicts.due_at``); the sweep marks the pairs
of enabled probes past that moment in the shared queue and clears their deadline, in
one statement, so its cost follows what went silent, not how many probes exist. Every
replica may sweep: rows are taken with ``SKIP LOCKED``, so each due pair is marked once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from api.services.judging_queue import JudgingLoop
from store import location_verdicts
from store.errors import DatabaseUnavailable
from store.pool import Pool, transaction

log = logging.getLogger(__name__)

BATCH = 1000
"""Due pairs marked per statement."""


async def sweep_once(pool: Pool, now: datetime | None = None) -> int:
    """Mark every pair due at ``now`` (default the clock) for judging; how many were."""
    at = now or datetime.now(UTC)
    total = 0
    while True:
        async with transaction(pool) as conn:
            marked = await location_verdicts.mark_due(conn, at, BATCH)
        total += marked
        if marked < BATCH:
            return total


async def sweep_forever(
    pool: Pool, every_s: float, stop: asyncio.Event, judging: JudgingLoop
) -> None:
    """Sweep every ``every_s`` seconds until ``stop``; a database outage is waited out."""
    while not stop.is_set():
        try:
            if await sweep_once(pool):
                judging.nudge()
        except DatabaseUnavailable as exc:
            log.warning("health sweep skipped: %s", exc)
        except Exception:  # a bug in one sweep must not end sweeping for the process
            log.exception("health sweep failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)
