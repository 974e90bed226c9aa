"""Repository of scheduled runs: leasing due runs to agents and completing them.

Leasing is one transaction of row locks taken with ``FOR UPDATE SKIP LOCKED``,
so any number of agents and API replicas can lease at once and a due slot is
handed out exactly once (``runs`` is also unique per slot). A lease lasts the
run's timeout (plus talk and scoring time for calls) plus a grace; one that
expires without a result is handed out again with the same ``run_id``. Every agent
that ever held a run may deliver its result, late too (an agent cut off from the API
replays its spool): the first result wins, later ones are duplicates, and agents that
never held the run are refused. A result's start is kept on the server's clock: the
agent's ``started_at`` bounded by the run's first lease and the moment it arrived, so
an agent whose clock is off by less than the accepted skew neither loses results nor
misplaces them in time.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from probes.contract import LeasedRun
from store.pool import AsyncConn
from store.rows import fetch_all


@dataclass(frozen=True, kw_only=True, slots=True)
class LeasedRow:
    """A leased run as the agent contract states it, but for its secret: still encrypted,
    apart (``run.secret`` is None)."""

    run: LeasedRun
    sealed_secret: bytes | None


def _leased(*, secret: bytes | None, **run: Any) -> LeasedRow:
    return LeasedRow(run=LeasedRun(**run), sealed_secret=secret)


@dataclass(frozen=True, kw_only=True, slots=True)
class Holder:
    """The agent posting results: only runs leased to it can be completed."""

    project_id: uuid.UUID
    location_id: uuid.UUID
    agent_id: uuid.UUID


@dataclass(frozen=True, kw_only=True, slots=True)
class CompletedRun:
    """A run just marked complete: where its result belongs."""

    run_id: uuid.UUID
    probe_id: uuid.UUID
    target: str
    due_at: datetime
    leased_at: datetime
    started_at: datetime
    """The result's start on the server's clock (see the module docstring)."""


@dataclass(kw_only=True, slots=True)
class Completion:
    """What happened to posted runs; a run in none of these was not leased to the agent."""

    completed: list[CompletedRun] = field(default_factory=list)
    duplicates: set[uuid.UUID] = field(default_factory=set)
    outside_lease: set[uuid.UUID] = field(default_factory=set)


# One statement (one round trip): expired leases first, then due slots up to the
# limit. A schedule far behind (10 intervals and 5 minutes: no agent for a while)
# restarts from now instead of replaying every missed slot; slower agents only
# add lag, visible in ``runs``, and skip nothing. Rows inserted here are not
# visible to this statement's own SELECT, so both branches RETURN what the agent
# needs and only ``probes`` is joined at the end. The schedules locked in ``due`` are
# updated by row address (a join on their key was a nested loop, 11 of 49 ms for 500):
# a row changed by someone else since this statement's snapshot is then not updated,
# and stays due for the next lease.
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
        earlier_holders = CASE WHEN r.leased_by IS NULL OR r.leased_by = %(agent)s
            OR r.leased_by = ANY(r.earlier_holders) THEN r.earlier_holders
            ELSE r.earlier_holders || r.leased_by END,
        first_leased_at = coalesce(r.first_leased_at, r.leased_at),
        lease_expires = now() + make_interval(secs => p.timeout_s + %(grace)s + CASE
            WHEN p.kind = 'sip_call' THEN coalesce((p.options->>'talk_s')::float, 10) + 30
            ELSE 0 END)
    FROM expired, probes p
    WHERE r.run_id = expired.run_id AND p.id = r.probe_id
    RETURNING r.run_id, r.probe_id, r.target, r.due_at, r.lease_expires, r.attempts
), due AS (
    SELECT s.ctid AS row, s.probe_id, s.location_id, s.target, s.next_due
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
    WHERE s.ctid = due.row AND p.id = s.probe_id AND p.enabled
    RETURNING p.project_id, p.id AS probe_id, s.location_id, s.target, due.next_due AS due_at,
              p.timeout_s + CASE WHEN p.kind = 'sip_call'
                  THEN coalesce((p.options->>'talk_s')::float, 10) + 30 ELSE 0 END AS run_s
), inserted AS (
    INSERT INTO runs (project_id, probe_id, location_id, target, due_at, leased_at, leased_by,
                      lease_expires, first_leased_at)
    SELECT project_id, probe_id, location_id, target, due_at, now(), %(agent)s,
           now() + make_interval(secs => run_s + %(grace)s), now()
    FROM advanced
    ON CONFLICT DO NOTHING
    RETURNING run_id, probe_id, target, due_at, lease_expires, attempts
)
SELECT l.run_id, l.probe_id, p.name AS probe_name, p.kind, l.target, p.timeout_s,
       p.options, p.secret, l.due_at, l.lease_expires, l.attempts AS attempt
FROM (SELECT * FROM reissued UNION ALL SELECT * FROM inserted) AS l
JOIN probes p ON p.id = l.probe_id
ORDER BY l.due_at
"""

# Completes the posted runs this agent holds or held, when the result started within
# [first lease - skew, now + skew]. The SELECT reads the snapshot before the UPDATE; a
# run completed meanwhile by a concurrent post fails the UPDATE's own ``completed_at IS
# NULL`` and is a duplicate. A run never leased to the agent has no row. Runs leased
# before migration 0012 have no first_leased_at: their window starts at the current
# lease, as it did then. The posted runs and the completed ones come back as two row
# kinds that the caller matches by run id, and the UPDATE takes its rows from an array
# (by primary key, or the location's open runs when the statistics say there are few):
# the planner estimates one row for every CTE here, and any join with one became a
# nested loop (measured: every open run against the posted list, 250,000 comparisons,
# 77 ms for 500 runs).
_COMPLETE = """
WITH posted AS (
    SELECT * FROM unnest(%(ids)s::uuid[], %(started)s::timestamptz[]) AS p (run_id, started_at)
), held AS (
    SELECT r.run_id, r.completed_at IS NOT NULL AS done_before, p.started_at,
           coalesce(r.first_leased_at, r.leased_at) AS since
    FROM runs r JOIN posted p ON p.run_id = r.run_id
    WHERE r.project_id = %(project)s AND r.location_id = %(location)s
      AND (r.leased_by = %(agent)s OR %(agent)s = ANY(r.earlier_holders))
), mine AS (
    SELECT run_id, done_before,
           started_at BETWEEN since - make_interval(secs => %(skew)s)
                          AND now() + make_interval(secs => %(skew)s) AS in_lease,
           least(greatest(started_at, since), now()) AS measured_at
    FROM held
), done AS (
    UPDATE runs r SET completed_at = now()
    WHERE r.run_id = ANY(ARRAY(SELECT run_id FROM mine WHERE in_lease))
      AND r.location_id = %(location)s AND r.completed_at IS NULL
    RETURNING r.run_id, r.probe_id, r.target, r.due_at, r.leased_at
)
SELECT false AS completed, run_id, done_before OR in_lease AS counted, measured_at,
       NULL::uuid, NULL::text, NULL::timestamptz, NULL::timestamptz
FROM mine
UNION ALL
SELECT true, run_id, true, NULL, probe_id, target, due_at, leased_at FROM done
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
    return await fetch_all(conn, _leased, _LEASE, params)


async def complete_runs(
    conn: AsyncConn,
    *,
    started: Mapping[uuid.UUID, datetime],
    holder: Holder,
    skew_s: float,
) -> Completion:
    """Complete the posted runs (run id -> the result's ``started_at``) the agent holds
    or held.

    A run counts only when ``holder`` (its project, location and agent) holds or held
    it, its result started in ``[first leased - skew_s, now + skew_s]`` and no other
    result completed it first.
    """
    params = {
        "ids": list(started),
        "started": list(started.values()),
        "project": holder.project_id,
        "location": holder.location_id,
        "agent": holder.agent_id,
        "skew": skew_s,
    }
    rows = await (await conn.execute(_COMPLETE, params)).fetchall()
    measured = {run_id: measured_at for done, run_id, _, measured_at, *_ in rows if not done}
    completed = {
        run_id: CompletedRun(
            run_id=run_id,
            probe_id=probe_id,
            target=target,
            due_at=due_at,
            leased_at=leased_at,
            started_at=measured[run_id],
        )
        for done, run_id, _, _, probe_id, target, due_at, leased_at in rows
        if done
    }
    completion = Completion(completed=list(completed.values()))
    for done, run_id, counted, *_ in rows:
        if done or run_id in completed:
            continue
        if counted:
            completion.duplicates.add(run_id)
        else:
            completion.outside_lease.add(run_id)
    return completion


_RELEASE = """
UPDATE runs SET lease_expires = now()
WHERE run_id = ANY(%(ids)s::uuid[]) AND project_id = %(project)s
  AND location_id = %(location)s AND leased_by = %(agent)s
  AND completed_at IS NULL AND lease_expires > now()
RETURNING run_id
"""


async def release_runs(conn: AsyncConn, run_ids: list[uuid.UUID], holder: Holder) -> int:
    """Hand back the runs of ``run_ids`` that ``holder`` holds and has not completed: their
    lease expires now, so the location's next lease re-issues them. How many were."""
    params = {
        "ids": run_ids,
        "project": holder.project_id,
        "location": holder.location_id,
        "agent": holder.agent_id,
    }
    return len(await (await conn.execute(_RELEASE, params)).fetchall())
