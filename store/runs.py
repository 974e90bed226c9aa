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


# One statement (one round trip): expired leases first, then due slots up to the
# limit. A schedule far behind (10 intervals and 5 minutes: no agent for a while)
# restarts from now instead of replaying every missed slot; slower agents only
# add lag, visible in ``runs``, and skip nothing. Rows inserted here are not
# visible to this statement's own SELECT, so both branches RETURN what the agent
# needs and only ``probes`` is joined at the end.
_LEASE = """
WITH expired AS (
    SELECT run_id FROM runs
    WHERE location_id = %(location)s AND completed_at IS NULL AND lease_expires < now()
    ORDER BY due_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
), reissued AS (
    UPDATE runs r
    SET leased_at = now(), leased_by = %(agent)s, attempts = r.attempts + 1,
        lease_expires = now() + make_interval(secs => p.timeout_s + %(grace)s + CASE
            WHEN p.kind = 'sip_call' THEN coalesce((p.options->>'talk_s')::float, 10) + 30
            ELSE 0 END)
    FROM expired, probes p
    WHERE r.run_id = expired.run_id AND p.id = r.probe_id
    RETURNING r.run_id, r.probe_id, r.target, r.due_at, r.lease_expires, r.attempts
), due AS (
    SELECT s.probe_id, s.location_id, s.target, s.next_due
    FROM schedules s
    WHERE s.location_id = %(location)s AND s.next_due <= now()
    ORDER BY s.next_due
    LIMIT greatest(%(limit)s - (SELECT count(*) FROM expired), 0)
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
), inserted AS (
    INSERT INTO runs (project_id, probe_id, location_id, target, due_at, leased_at, leased_by,
                      lease_expires)
    SELECT project_id, probe_id, location_id, target, due_at, now(), %(agent)s,
           now() + make_interval(secs => run_s + %(grace)s)
    FROM advanced
    ON CONFLICT DO NOTHING
    RETURNING run_id, probe_id, target, due_at, lease_expires, attempts
)
SELECT l.run_id, l.probe_id, p.name AS probe_name, p.kind, l.target, p.timeout_s,
       p.options, p.secret, l.due_at, l.lease_expires, l.attempts
FROM (SELECT * FROM reissued UNION ALL SELECT * FROM inserted) AS l
JOIN probes p ON p.id = l.probe_id
ORDER BY l.due_at
"""

# Completes what is open and says which ids exist at all (the SELECT reads the
# snapshot before the UPDATE, so completed and already-completed runs both show).
_COMPLETE = """
WITH done AS (
    UPDATE runs SET completed_at = now()
    WHERE run_id = ANY(%(ids)s) AND project_id = %(project)s AND location_id = %(location)s
      AND completed_at IS NULL
    RETURNING run_id, probe_id, target, due_at, leased_at
)
SELECT r.run_id, d.run_id IS NOT NULL AS completed, d.probe_id, d.target, d.due_at, d.leased_at
FROM runs r LEFT JOIN done d ON d.run_id = r.run_id
WHERE r.run_id = ANY(%(ids)s) AND r.project_id = %(project)s AND r.location_id = %(location)s
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
    async with conn.cursor(row_factory=class_row(LeasedRow)) as cur:
        await cur.execute(_LEASE, params)
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
    completed: list[CompletedRun] = []
    known: set[uuid.UUID] = set()
    for run_id, fresh, probe_id, target, due_at, leased_at in await (
        await conn.execute(_COMPLETE, params)
    ).fetchall():
        known.add(run_id)
        if fresh:
            completed.append(
                CompletedRun(
                    run_id=run_id,
                    probe_id=probe_id,
                    target=target,
                    due_at=due_at,
                    leased_at=leased_at,
                )
            )
    return completed, known
