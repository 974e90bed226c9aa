"""Repository of scheduled runs: leasing due runs to agents and completing them.

Leasing is one transaction of row locks taken with ``FOR UPDATE SKIP LOCKED``,
so any number of agents and API replicas can lease at once and a due slot is
handed out exactly once (``runs`` is also unique per slot). A lease lasts the
run's timeout (plus talk and scoring time for calls) plus a grace; one that
expires without a result is handed out again with the same ``run_id``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.rows import class_row

from store.pool import AsyncConn


@dataclass(frozen=True, kw_only=True, slots=True)
class LeasedRow:
    """A leased run with what the agent needs to execute it (secret still encrypted)."""

    run_id: uuid.UUID
    probe_id: uuid.UUID
    probe_name: str
    kind: str
    target: str
    timeout_s: float
    options: dict[str, Any]
    secret: bytes | None
    due_at: datetime
    lease_expires: datetime
    attempts: int


@dataclass(frozen=True, kw_only=True, slots=True)
class CompletedRun:
    """A run just marked complete: where its result belongs."""

    run_id: uuid.UUID
    probe_id: uuid.UUID
    target: str
    due_at: datetime
    leased_at: datetime


_REISSUE = """
WITH expired AS (
    SELECT run_id FROM runs
    WHERE location_id = %(location)s AND completed_at IS NULL AND lease_expires < now()
    ORDER BY due_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE runs r
SET leased_at = now(), leased_by = %(agent)s, attempts = r.attempts + 1,
    lease_expires = now() + make_interval(secs => p.timeout_s + %(grace)s + CASE
        WHEN p.kind = 'sip_call' THEN coalesce((p.options->>'talk_s')::float, 10) + 30 ELSE 0 END)
FROM expired, probes p
WHERE r.run_id = expired.run_id AND p.id = r.probe_id
RETURNING r.run_id
"""

# A schedule far behind (10 intervals and 5 minutes: no agent for a while)
# restarts from now instead of replaying every missed slot; slower agents only
# add lag, visible in ``runs``, and skip nothing.
_LEASE_DUE = """
WITH due AS (
    SELECT s.probe_id, s.location_id, s.target, s.next_due
    FROM schedules s
    WHERE s.location_id = %(location)s AND s.next_due <= now()
    ORDER BY s.next_due
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
), advanced AS (
    UPDATE schedules s
    SET next_due = CASE
        WHEN due.next_due + make_interval(secs => greatest(10 * p.interval_s, 300)) > now()
        THEN due.next_due + make_interval(secs => p.interval_s)
        ELSE now() END
    FROM due, probes p
    WHERE s.probe_id = due.probe_id AND s.location_id = due.location_id
      AND s.target = due.target AND p.id = s.probe_id AND p.enabled
    RETURNING p.project_id, p.id AS probe_id, s.location_id, s.target, due.next_due AS due_at,
              p.timeout_s + CASE WHEN p.kind = 'sip_call'
                  THEN coalesce((p.options->>'talk_s')::float, 10) + 30 ELSE 0 END AS run_s
)
INSERT INTO runs (project_id, probe_id, location_id, target, due_at, leased_at, leased_by,
                  lease_expires)
SELECT project_id, probe_id, location_id, target, due_at, now(), %(agent)s,
       now() + make_interval(secs => run_s + %(grace)s)
FROM advanced
ON CONFLICT DO NOTHING
RETURNING run_id
"""

_DETAILS = """
SELECT r.run_id, r.probe_id, p.name AS probe_name, p.kind, r.target, p.timeout_s,
       p.options, p.secret, r.due_at, r.lease_expires, r.attempts
FROM runs r JOIN probes p ON p.id = r.probe_id
WHERE r.run_id = ANY(%(ids)s)
ORDER BY r.due_at
"""

_COMPLETE = """
UPDATE runs SET completed_at = now()
WHERE run_id = ANY(%(ids)s) AND project_id = %(project)s AND location_id = %(location)s
  AND completed_at IS NULL
RETURNING run_id, probe_id, target, due_at, leased_at
"""

_KNOWN = """
SELECT run_id FROM runs
WHERE run_id = ANY(%(ids)s) AND project_id = %(project)s AND location_id = %(location)s
"""


async def lease_runs(
    conn: AsyncConn,
    *,
    location_id: uuid.UUID,
    agent_id: uuid.UUID,
    limit: int,
    grace_s: float,
) -> list[LeasedRow]:
    """Lease up to ``limit`` runs at the location: expired leases first, then due slots."""
    params = {"location": location_id, "agent": agent_id, "limit": limit, "grace": grace_s}
    ids = [row[0] for row in await (await conn.execute(_REISSUE, params)).fetchall()]
    if len(ids) < limit:
        params["limit"] = limit - len(ids)
        ids += [row[0] for row in await (await conn.execute(_LEASE_DUE, params)).fetchall()]
    if not ids:
        return []
    async with conn.cursor(row_factory=class_row(LeasedRow)) as cur:
        await cur.execute(_DETAILS, {"ids": ids})
        return await cur.fetchall()


async def complete_runs(
    conn: AsyncConn,
    *,
    run_ids: Sequence[uuid.UUID],
    project_id: uuid.UUID,
    location_id: uuid.UUID,
) -> tuple[list[CompletedRun], set[uuid.UUID]]:
    """Mark runs complete; returns the newly completed ones and every run id that exists.

    A run id outside the agent's project and location is not "known": its result is refused.
    """
    params = {"ids": list(run_ids), "project": project_id, "location": location_id}
    async with conn.cursor(row_factory=class_row(CompletedRun)) as cur:
        await cur.execute(_COMPLETE, params)
        completed = await cur.fetchall()
    known = {row[0] for row in await (await conn.execute(_KNOWN, params)).fetchall()}
    return completed, known
