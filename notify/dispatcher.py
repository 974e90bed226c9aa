"""The dispatcher: claimed deliveries sent through their channel's plugin, outcomes logged.

Every API process runs one (:func:`run`): it routes the outbox, claims due deliveries
(``SKIP LOCKED``, so processes never share one), sends each with at most
``concurrency`` in flight, and settles it: delivered, retried later with backoff (or when
the receiver's ``Retry-After`` says), or dead after the last attempt. Sending happens
outside any transaction; a process killed mid-send leaves its claim to expire, and the
delivery goes out again with the same idempotency key.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from notify import metrics
from notify.backoff import Backoff
from notify.channels import channel
from notify.channels.base import Delivery, Outbound, Sent
from notify.compose import PageAddress
from notify.payloads import CrispHealthChanged, ProbeNotice
from notify.router import route_once
from store import deliveries
from store.deliveries import Claimed, Outcome
from store.errors import DatabaseUnavailable
from store.pool import Pool, transaction

log = logging.getLogger(__name__)

Unseal = Callable[[bytes], dict[str, Any]]
"""Decrypts a channel's stored secret into its plugin's secret fields; raises when this
process's key does not open it (the attempt then fails and is retried)."""

LEASE_MARGIN_S = 15.0
"""How long past the attempt timeout a claim is held before another process may retry."""


@dataclass(kw_only=True)
class Dispatcher:
    """Sends deliveries; shared by the loop and the test-send route."""

    pool: Pool | str
    outbound: Outbound
    unseal: Unseal
    timeout_s: float
    backoff: Backoff = field(default_factory=Backoff)
    rng: random.Random = field(default_factory=random.Random)

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.timeout_s + LEASE_MARGIN_S)

    async def claim(self, now: datetime, limit: int) -> list[Claimed]:
        async with transaction(self.pool) as conn:
            return await deliveries.claim(conn, now, limit, self.lease)

    async def attempt(self, claimed: Claimed, *, last: bool = False) -> Outcome:
        """Send once and settle; ``last`` makes a failure final (a test send)."""
        started = datetime.now(UTC)
        clock = time.perf_counter()
        sent = await self._send(claimed)
        latency_ms = (time.perf_counter() - clock) * 1000
        outcome = self._outcome(claimed, sent, started, latency_ms, last=last)
        async with transaction(self.pool) as conn:
            if not await deliveries.settle(conn, claimed, outcome):
                log.warning("delivery claim lost", extra={"delivery_id": str(claimed.id)})
        self._count(claimed, outcome)
        return outcome

    async def _send(self, claimed: Claimed) -> Sent:
        try:
            opened = self.unseal(claimed.secret)
        except Exception as exc:  # another process's key may open it: retry
            return Sent(ok=False, error=f"the channel's secret does not open here: {exc}")
        try:
            plugin = channel(claimed.channel_kind)
            config = plugin.Config.model_validate(claimed.config)
            secrets = plugin.Secrets.model_validate(opened)
        except (ValueError, ValidationError) as exc:
            return Sent(ok=False, error=f"channel settings no longer valid: {exc}", permanent=True)
        delivery = Delivery(key=f"msg_{claimed.id.hex}", notice=_document(claimed))
        try:
            async with asyncio.timeout(self.timeout_s + 5):
                return await plugin.send(delivery, config, secrets, self.outbound)
        except TimeoutError:
            return Sent(ok=False, error=f"no answer within {self.timeout_s:g} s")
        except Exception as exc:  # a plugin bug is logged, retried, never lost
            log.exception("channel plugin failed", extra={"delivery_id": str(claimed.id)})
            return Sent(ok=False, error=f"{claimed.channel_kind} plugin failed: {exc!r}")

    def _outcome(
        self, claimed: Claimed, sent: Sent, started: datetime, latency_ms: float, *, last: bool
    ) -> Outcome:
        if sent.ok:
            state, next_at = "delivered", None
        elif last or sent.permanent or self.backoff.exhausted(claimed.attempts):
            state, next_at = "dead", None
        else:
            wait = self.backoff.delay(claimed.attempts, sent.retry_after_s, self.rng)
            state, next_at = "pending", datetime.now(UTC) + timedelta(seconds=wait)
        return Outcome(
            state=state,
            next_at=next_at,
            started_at=started,
            latency_ms=latency_ms,
            status_code=sent.status,
            error=None if sent.ok else sent.error,
        )

    @staticmethod
    def _count(claimed: Claimed, outcome: Outcome) -> None:
        kind = claimed.channel_kind
        if outcome.state == "delivered":
            metrics.SENT.labels(kind).inc()
            queued_for = (datetime.now(UTC) - claimed.created_at).total_seconds()
            metrics.LATENCY.labels(kind).observe(queued_for)
        elif outcome.state == "dead":
            metrics.DEAD.labels(kind).inc()
        else:
            metrics.FAILED.labels(kind).inc()


@dataclass(frozen=True, kw_only=True, slots=True)
class Loop:
    """How one process's loop paces itself."""

    poll_s: float = 0.5
    concurrency: int = 32
    drain_s: float = 10.0


async def run(
    dispatcher: Dispatcher, address: PageAddress, loop: Loop, stop: asyncio.Event
) -> None:
    """Route and dispatch until ``stop``; then give in-flight sends ``drain_s`` to finish
    (an unfinished one is sent again by whichever process claims it next).

    With nothing to claim (all slots busy, or nothing due) the loop waits for a send to
    finish, which frees a slot and maybe the next notice of the same probe, or
    ``poll_s``, whichever comes first.
    """
    in_flight: set[asyncio.Task[Outcome]] = set()
    stopping = asyncio.ensure_future(stop.wait())
    while not stop.is_set():
        claimed: list[Claimed] = []
        try:
            now = datetime.now(UTC)
            await route_once(dispatcher.pool, address, now)
            free = loop.concurrency - len(in_flight)
            claimed = await dispatcher.claim(now, free) if free > 0 else []
        except DatabaseUnavailable as exc:
            log.warning("notification pass skipped: %s", exc)
        except Exception:  # a bug in one pass must not end notifications for the process
            log.exception("notification pass failed")
        for one in claimed:
            task = asyncio.create_task(dispatcher.attempt(one))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        if not claimed:
            await asyncio.wait(
                {stopping, *in_flight}, timeout=loop.poll_s, return_when=asyncio.FIRST_COMPLETED
            )
    stopping.cancel()
    if in_flight:
        await asyncio.wait(in_flight, timeout=loop.drain_s)


def _document(claimed: Claimed) -> ProbeNotice | CrispHealthChanged:
    if claimed.kind == "status:health:changed":
        return CrispHealthChanged.model_validate(claimed.payload)
    return ProbeNotice.model_validate(claimed.payload)
