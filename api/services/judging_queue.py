"""The judging loop: marks from the queue every replica shares, judged once between them.

Ingest marks (probe, location) pairs in the transaction that stores their results
(``store.judging_queue``), so a committed result always has its mark. Every API process
runs a :class:`JudgingLoop`: it leases a batch of marks (``SKIP LOCKED``: replicas never
claim the same mark), judges them, and deletes each mark in the transaction that writes
its judgement. A lease rather than one claim-and-judge transaction, so an ingest that
marks a pair being judged never waits for the judgement: it marks the pair again (its
lease cleared), and the pair is judged again after. A judgement that fails hands its
marks back at once; a process that dies loses them for :data:`LEASE_S` at most. A
claim takes whole probes where it can; a probe another replica is judging at that moment
(a mark that arrived meanwhile) is handed back, not waited for.

Marks coalesce while they wait (500 results for 50 probes at one location are 50
marks, so 50 evaluations at most). The loop wakes at once when this process ingests
(:meth:`JudgingLoop.nudge`) and otherwise polls, backing off while the queue is empty.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime

from api import telemetry
from api.services.judging import Change, judge
from store import judging_queue
from store.errors import DatabaseUnavailable
from store.judging_queue import Claim
from store.pool import Pool, transaction

log = logging.getLogger(__name__)

CLAIM_LIMIT = 500
"""Marks leased at once: a bound on what one replica holds."""

CHUNK = 50
"""Probes judged per transaction (their history is parsed on the event loop)."""

LEASE_S = 60.0
"""How long a claim is held before another replica may take it (its holder died)."""

GATHER_S = 0.2
"""Pause after a pass that found few marks, so marks arriving meanwhile are judged
together. After a claim of at least half :data:`CLAIM_LIMIT` marks are waiting, already
gathered: the loop claims again at once (pausing there too, judging fell 2-5 minutes
behind the scale bench's 3,333 marks a second)."""

IDLE_S = (0.1, 1.0)
"""Poll interval while the queue is empty: from the first bound, doubling to the second."""

RETRY_S = 1.0
"""Pause before retrying after the database refused a pass."""

PENDING_EVERY_S = 5.0
"""How often the pending gauge counts the queue."""


class JudgingLoop:
    """Claims marks from the shared queue and judges them until stopped."""

    def __init__(self, pool: Pool, *, claim_limit: int = CLAIM_LIMIT) -> None:
        self.pool = pool
        self.claim_limit = claim_limit
        self._wake = asyncio.Event()
        self._counted = 0.0

    def nudge(self) -> None:
        """New marks were committed here: claim them now rather than at the next poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Judge passes until ``stop`` is set; a database outage is waited out."""
        idle = IDLE_S[0]
        while not stop.is_set():
            try:
                claimed, judged = await self._pass(None)
                await self._count_pending()
            except DatabaseUnavailable as exc:
                log.warning("judging postponed: %s", exc)
                await _wait(stop, RETRY_S)
                continue
            except Exception:  # a bug in one pass must not end judging for the process
                log.exception("judging pass failed")
                await _wait(stop, RETRY_S)
                continue
            if 2 * len(claimed) >= self.claim_limit:
                idle = IDLE_S[0]
            elif judged:
                idle = IDLE_S[0]
                await _wait(stop, GATHER_S)
            elif await self._sleep(stop, idle):
                idle = IDLE_S[0]
            else:
                idle = min(2 * idle, IDLE_S[1])

    async def pass_once(self, now: datetime | None = None) -> list[Claim]:
        """Claim one batch and judge it (at ``now``, default the clock); what was judged."""
        return (await self._pass(now))[1]

    async def drain(self, now: datetime | None = None) -> list[Claim]:
        """Pass after pass until no mark is left to claim (tests, the CLI)."""
        judged: list[Claim] = []
        while True:
            claimed, done = await self._pass(now)
            if not claimed:
                return judged
            judged += done

    async def _pass(self, now: datetime | None) -> tuple[list[Claim], list[Claim]]:
        """The marks claimed, and those judged (not those of probes judged elsewhere)."""
        self._wake.clear()
        async with transaction(self.pool) as conn:
            claims = await judging_queue.claim(conn, self.claim_limit, LEASE_S)
        judged = []
        for chunk in _chunks(claims):
            judged += await self._judge_apart(chunk, now or datetime.now(UTC))
        return claims, judged

    async def _judge_apart(self, claims: Sequence[Claim], now: datetime) -> list[Claim]:
        """Judge a chunk; after a failure that is not the database's, its probes one by one.
        A probe this code cannot judge (a bug, a policy an older version stored) then stops
        neither the others nor the loop: the error is logged and its marks are dropped (its
        next result or edit marks it again), not retried every pass."""
        try:
            return await self._judge(claims, now)
        except DatabaseUnavailable:
            raise
        except Exception:
            probes = _wanted(claims)
            if len(probes) > 1:
                judged = []
                for probe in probes:
                    judged += await self._judge_apart(
                        [c for c in claims if c.probe_id == probe], now
                    )
                return judged
            log.exception("judging failed, marks dropped", extra={"probe_id": str(*probes)})
            async with transaction(self.pool) as conn:
                await judging_queue.release(conn, claims)
            return []

    async def _judge(self, claims: Sequence[Claim], now: datetime) -> list[Claim]:
        """Judge the claims of the probes no other replica is judging, release their marks
        and hand the others back (judged after the other replica's judgement)."""
        started = time.perf_counter()
        try:
            async with transaction(self.pool) as conn:
                judged = await judge(conn, _wanted(claims), now)
                mine = [c for c in claims if c.probe_id not in judged.busy]
                waited = await judging_queue.release(conn, mine)
                await judging_queue.unlease(conn, [c for c in claims if c.probe_id in judged.busy])
        except Exception:
            with contextlib.suppress(DatabaseUnavailable):
                async with transaction(self.pool) as conn:
                    await judging_queue.unlease(conn, claims)
            raise
        telemetry.HEALTH_EVAL_SECONDS.observe(time.perf_counter() - started)
        telemetry.JUDGED.inc(len(mine))
        for seconds in waited:
            telemetry.JUDGING_LAG.observe(seconds)
        _report(judged.changes)
        return mine

    async def _sleep(self, stop: asyncio.Event, timeout: float) -> bool:
        """Wait for a nudge, ``stop`` or the timeout; whether a nudge came."""
        woken = asyncio.ensure_future(self._wake.wait())
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({woken, stopping}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        woken.cancel()
        stopping.cancel()
        return self._wake.is_set()

    async def _count_pending(self) -> None:
        if time.monotonic() - self._counted >= PENDING_EVERY_S:
            self._counted = time.monotonic()
            async with transaction(self.pool) as conn:
                telemetry.HEALTH_PENDING.set(await judging_queue.pending(conn))


def _wanted(claims: Sequence[Claim]) -> dict[uuid.UUID, set[str]]:
    wanted: dict[uuid.UUID, set[str]] = {}
    for claim in claims:
        wanted.setdefault(claim.probe_id, set()).add(claim.location)
    return wanted


def _chunks(claims: Sequence[Claim]) -> list[list[Claim]]:
    """Claims in groups of at most :data:`CHUNK` probes, a probe's claims together."""
    by_probe = _wanted(claims)
    probes = sorted(by_probe)
    groups = [set(probes[i : i + CHUNK]) for i in range(0, len(probes), CHUNK)]
    return [[c for c in claims if c.probe_id in group] for group in groups]


def _report(changes: Sequence[Change]) -> None:
    telemetry.HEALTH_CHANGES.inc(len(changes))
    for change in changes:
        log.info("health changed", extra=asdict(change))


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
