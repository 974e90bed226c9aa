"""Re-judge every enabled probe on a clock, so silence becomes ``unknown`` or dead.

Results drive health as they arrive; only the clock can notice that none came.
Every API replica may sweep: the per-probe advisory locks judging takes
make concurrent sweeps record each transition once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from api.services.judging import reevaluate
from store import health
from store.errors import DatabaseUnavailable
from store.pool import Pool, transaction

log = logging.getLogger(__name__)


async def sweep_once(pool: Pool) -> int:
    """Evaluate all enabled probes now; returns the number of transitions recorded."""
    async with transaction(pool) as conn:
        probe_ids = await health.enabled_probe_ids(conn)
    return len(await reevaluate(pool, probe_ids, datetime.now(UTC)))


async def sweep_forever(pool: Pool, every_s: float, stop: asyncio.Event) -> None:
    """Sweep every ``every_s`` seconds until ``stop``; a database outage is waited out."""
    while not stop.is_set():
        try:
            await sweep_once(pool)
        except DatabaseUnavailable as exc:
            log.warning("health sweep skipped: %s", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)
