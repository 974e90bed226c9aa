"""Repository of deliveries: claimed by dispatchers, their attempts, the log and controls.

A dispatcher claims due deliveries with ``FOR UPDATE SKIP LOCKED`` (any number of API
processes each get different rows) and marks them ``sending`` with a lease; a process
that dies mid-send leaves the lease to expire and the delivery is claimed again, with
the same id (the idempotency key). A delivery waits while an earlier one for the same
channel and probe (or page) is still open, so each receiver sees a probe's notices in
order.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from psycopg.types.json import Jsonb

from store.pool import AsyncConn
from store.rows import fetch_all, fetch_found, fetch_new


@dataclass(frozen=True, kw_only=True, slots=True)
class Claimed:
    """A delivery taken for one attempt, with its channel's plugin settings."""

    id: uuid.UUID
    project_id: uuid.UUID
    channel_id: uuid.UUID
    kind: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime
    channel_kind: str
    config: dict[str, Any]
    secret: bytes


@dataclass(frozen=True, kw_only=True, slots=True)
class DeliveryRow:
    """A delivery as the log lists it."""

    id: uuid.UUID
    seq: int
    channel_id: uuid.UUID
    event_id: int | None
    order_key: str
    kind: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any]


@dataclass(frozen=True, kw_only=True, slots=True)
class AttemptRow:
    """One attempt: when, how long, what the receiver answered."""

    delivery_id: uuid.UUID
    attempt: int
    started_at: datetime
    latency_ms: float
    status_code: int | None
    outcome: str
    error: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class Outcome:
    """What an attempt decided: ``state`` delivered, pending (retry at ``next_at``) or dead."""

    state: str
    next_at: datetime | None
    started_at: datetime
    latency_ms: float
    status_code: int | None
    error: str | None


_CLAIM = """
WITH next AS (
    SELECT d.id FROM notify_deliveries d
    JOIN notify_channels c ON c.id = d.channel_id AND c.paused_at IS NULL
    WHERE d.state IN ('pending', 'sending') AND d.next_attempt_at <= %(now)s
      AND NOT EXISTS (
          SELECT 1 FROM notify_deliveries e
          WHERE e.channel_id = d.channel_id AND e.order_key = d.order_key
            AND e.seq < d.seq AND e.state IN ('pending', 'sending'))
    ORDER BY d.seq LIMIT %(limit)s
    FOR UPDATE OF d SKIP LOCKED
)
UPDATE notify_deliveries d
SET state = 'sending', attempts = d.attempts + 1, next_attempt_at = %(now)s + %(lease)s
FROM next, notify_channels c
WHERE d.id = next.id AND c.id = d.channel_id
RETURNING d.id, d.project_id, d.channel_id, d.kind, d.payload, d.attempts, d.created_at,
          c.kind AS channel_kind, c.config, c.secret
"""
_CLAIM_NEW = """
WITH d AS (
    INSERT INTO notify_deliveries (project_id, channel_id, order_key, kind, payload, state,
                                   attempts, next_attempt_at)
    VALUES (%(project)s, %(channel)s, 'test:' || gen_random_uuid(), %(kind)s, %(payload)s,
            'sending', 1, %(now)s + %(lease)s)
    RETURNING *
)
SELECT d.id, d.project_id, d.channel_id, d.kind, d.payload, d.attempts, d.created_at,
       c.kind AS channel_kind, c.config, c.secret
FROM d JOIN notify_channels c ON c.id = d.channel_id
"""
_SETTLE = """
UPDATE notify_deliveries SET state = %(state)s, next_attempt_at = coalesce(%(next)s, now()),
    last_error = %(error)s,
    delivered_at = CASE WHEN %(state)s = 'delivered' THEN %(done)s END
WHERE id = %(id)s AND state = 'sending' AND attempts = %(attempt)s
"""
_ATTEMPT = """
INSERT INTO notify_attempts
    (delivery_id, attempt, started_at, latency_ms, status_code, outcome, error)
VALUES (%(id)s, %(attempt)s, %(started)s, %(latency)s, %(status)s, %(outcome)s, %(error)s)
"""
_COLUMNS = (
    " d.id, d.seq, d.channel_id, d.event_id, d.order_key, d.kind, d.state, d.attempts,"
    " d.next_attempt_at, d.last_error, d.created_at, d.delivered_at, d.payload "
)
_LIST = (
    "SELECT" + _COLUMNS + "FROM notify_deliveries d"
    " WHERE d.project_id = %(project)s AND d.channel_id = %(channel)s"
    " AND (%(state)s::text IS NULL OR d.state = %(state)s)"
    " AND (%(before)s::bigint IS NULL OR d.seq < %(before)s)"
    " ORDER BY d.seq DESC LIMIT %(limit)s"
)
_GET = (
    "SELECT" + _COLUMNS + "FROM notify_deliveries d"
    " WHERE d.project_id = %(project)s AND d.id = %(id)s"
)
_ATTEMPTS = """
SELECT delivery_id, attempt, started_at, latency_ms, status_code, outcome, error
FROM notify_attempts WHERE delivery_id = ANY(%(ids)s) ORDER BY started_at, id
"""
_REDELIVER = """
UPDATE notify_deliveries d SET state = 'pending', attempts = 0, next_attempt_at = now(),
    last_error = NULL, delivered_at = NULL
WHERE d.project_id = %(project)s AND d.id = %(id)s AND d.state IN ('dead', 'delivered')
RETURNING d.id
"""

_MISSING = "delivery not found"


async def claim(conn: AsyncConn, now: datetime, limit: int, lease: timedelta) -> list[Claimed]:
    """Take up to ``limit`` due deliveries for one attempt each (commit right after)."""
    params = {"now": now, "limit": limit, "lease": lease}
    return await fetch_all(conn, Claimed, _CLAIM, params)


async def claim_new(
    conn: AsyncConn,
    project_id: uuid.UUID,
    channel_id: uuid.UUID,
    *,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    lease: timedelta,
) -> Claimed:
    """A delivery made and claimed at once (a test send, attempted by its request)."""
    params = {
        "project": project_id,
        "channel": channel_id,
        "kind": kind,
        "payload": Jsonb(payload),
        "now": now,
        "lease": lease,
    }
    return await fetch_new(conn, Claimed, _CLAIM_NEW, params)


async def settle(conn: AsyncConn, claimed: Claimed, outcome: Outcome) -> bool:
    """Log the attempt and move the delivery on; false when the claim had been lost
    (its lease ran out and another dispatcher took it)."""
    outcome_word = "failed" if outcome.state == "pending" else outcome.state
    params = {
        "id": claimed.id,
        "attempt": claimed.attempts,
        "state": outcome.state,
        "next": outcome.next_at,
        "error": outcome.error,
        "done": outcome.started_at,
        "started": outcome.started_at,
        "latency": outcome.latency_ms,
        "status": outcome.status_code,
        "outcome": outcome_word,
    }
    await conn.execute(_ATTEMPT, params)
    return (await conn.execute(_SETTLE, params)).rowcount == 1


async def list_deliveries(
    conn: AsyncConn,
    project_id: uuid.UUID,
    channel_id: uuid.UUID,
    *,
    state: str | None,
    before: int | None,
    limit: int,
) -> list[DeliveryRow]:
    """A channel's deliveries, newest first; ``before`` a ``seq`` to page back from."""
    params = {
        "project": project_id,
        "channel": channel_id,
        "state": state,
        "before": before,
        "limit": limit,
    }
    return await fetch_all(conn, DeliveryRow, _LIST, params)


async def get_delivery(
    conn: AsyncConn, project_id: uuid.UUID, delivery_id: uuid.UUID
) -> DeliveryRow:
    params = {"project": project_id, "id": delivery_id}
    return await fetch_found(conn, DeliveryRow, _GET, params, missing=_MISSING)


async def attempts_of(conn: AsyncConn, delivery_ids: list[uuid.UUID]) -> list[AttemptRow]:
    return await fetch_all(conn, AttemptRow, _ATTEMPTS, {"ids": delivery_ids})


async def redeliver(conn: AsyncConn, project_id: uuid.UUID, delivery_id: uuid.UUID) -> bool:
    """Queue a dead (or delivered) delivery again with a fresh round of attempts and its
    same idempotency key; false when it is still on its way."""
    params = {"project": project_id, "id": delivery_id}
    return await (await conn.execute(_REDELIVER, params)).fetchone() is not None
