"""The retention loop: a pass every interval (the first one interval after start), by
whichever API replica takes the retention lock; the others skip that pass.

Before its first pass it turns on compression of old raw chunks where TimescaleDB has
it (the full edition) and says once that it does not on the Apache edition.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import asdict

from store import retention
from store.errors import DatabaseUnavailable
from store.pool import Pool, transaction

log = logging.getLogger(__name__)


async def compress_where_possible(pool: Pool, after_days: int) -> bool:
    """Enable compression of raw chunks older than ``after_days`` when the edition has
    it; whether it did."""
    async with transaction(pool) as conn:
        edition = await retention.license_edition(conn)
        if edition != "timescale":
            log.info("compression skipped: TimescaleDB %s edition has none", edition)
            return False
        await retention.enable_compression(conn, after_days)
    log.info("compression of raw chunks older than %d days enabled", after_days)
    return True


async def retain_once(pool: Pool) -> retention.Pruned | None:
    """One retention pass; None when another replica is running one."""
    async with transaction(pool) as conn:
        pruned = await retention.prune(conn)
    if pruned is None:
        log.info("retention pass skipped: another process holds the lock")
    else:
        log.info("retention pass done", extra=asdict(pruned))
    return pruned


async def retain_forever(
    pool: Pool, every_s: float, compress_after_days: int, stop: asyncio.Event
) -> None:
    """Prune every ``every_s`` seconds until ``stop``; a database outage is waited out."""
    compression_checked = False
    while not await _stopped(stop, every_s):
        try:
            if not compression_checked:
                await compress_where_possible(pool, compress_after_days)
                compression_checked = True
            await retain_once(pool)
        except DatabaseUnavailable as exc:
            log.warning("retention pass skipped: %s", exc)


async def _stopped(stop: asyncio.Event, wait_s: float) -> bool:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), wait_s)
    return stop.is_set()
