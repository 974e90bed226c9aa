"""The CLI's results: stored through the one write path (``api.services.ingest``), or kept in
a spool while the database is away and replayed later.

Replays are safe to repeat: the table ignores a result it already has, so a crash
between a commit and the spool's acknowledgement only costs a no-op re-insert.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from api.services.ingest import store_results
from probes.result import CallResult
from probes.spool import Spool
from store.errors import DatabaseUnavailable
from store.pool import Pool, transaction

log = logging.getLogger(__name__)

DRAIN_BATCH = 500


@dataclass(frozen=True, kw_only=True, slots=True)
class SinkReport:
    """What happened to a batch: ``received`` = ``stored`` + duplicates, or spooled."""

    received: int
    stored: int
    spooled: int
    error: str | None = None

    def __str__(self) -> str:
        if self.spooled:
            return f"spooled {self.spooled} result(s), database unavailable: {self.error}"
        return f"stored {self.stored} of {self.received} result(s)"


async def store_or_spool(
    source: str | Pool, results: Sequence[CallResult], spool: Spool
) -> SinkReport:
    """Insert ``results`` in one transaction; if the database is unavailable, spool them."""
    try:
        async with transaction(source) as conn:
            stored = (await store_results(conn, results)).count
    except DatabaseUnavailable as exc:
        spooled = await asyncio.to_thread(spool.spool_all, results)
        log.warning("database unavailable: results spooled", extra={"count": spooled})
        return SinkReport(received=len(results), stored=0, spooled=spooled, error=str(exc))
    return SinkReport(received=len(results), stored=stored, spooled=0)


async def drain_spool(source: str | Pool, spool: Spool, batch: int = DRAIN_BATCH) -> SinkReport:
    """Replay spooled results in batches; stop at the first failure, leaving the rest spooled."""
    pending = await asyncio.to_thread(spool.pending)
    stored = 0
    for start in range(0, len(pending), batch):
        chunk = pending[start : start + batch]
        try:
            async with transaction(source) as conn:
                stored += (await store_results(conn, chunk)).count
        except DatabaseUnavailable as exc:
            left = len(pending) - start
            return SinkReport(received=len(pending), stored=stored, spooled=left, error=str(exc))
        await asyncio.to_thread(spool.acknowledge, [result.run_id for result in chunk])
    log.info("spool drained", extra={"replayed": len(pending), "stored": stored})
    return SinkReport(received=len(pending), stored=stored, spooled=0)
