"""Writes a health transition: the one place a change of a probe's overall state is recorded.

Incidents are derived from transitions as they are recorded: a probe that leaves
``healthy`` for ``degraded`` or ``unhealthy`` opens one (at most one open per
probe), a worse state raises its severity, and a return to ``healthy`` resolves
it. ``unknown`` (no data) leaves an open incident open: nobody knows it ended.
Everything here runs in the caller's transaction, so whatever must happen exactly
when a transition does is written beside it, here: the notification outbox row
(``notify_events``), which the notify router fans out to channels after commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, LiteralString

from psycopg.types.json import Jsonb

from store.pool import AsyncConn
from thresholds.transitions import Transition

_TRANSITION = """
INSERT INTO health_transitions (project_id, probe_id, at, from_state, to_state, reasons)
VALUES (%(project)s, %(probe)s, %(at)s, %(from)s, %(to)s, %(reasons)s)
RETURNING id
"""

_OPEN_INCIDENT = """
INSERT INTO incidents (project_id, probe_id, opened_at, worst_state, cause)
VALUES (%(project)s, %(probe)s, %(at)s, %(to)s, %(cause)s)
ON CONFLICT (probe_id) WHERE resolved_at IS NULL DO UPDATE SET
    worst_state = CASE WHEN incidents.worst_state = 'unhealthy' THEN 'unhealthy'
                       ELSE excluded.worst_state END,
    cause = CASE WHEN excluded.worst_state = 'unhealthy' AND incidents.worst_state <> 'unhealthy'
                 THEN excluded.cause ELSE incidents.cause END
RETURNING id
"""

_RESOLVE_INCIDENT = """
UPDATE incidents SET resolved_at = %(at)s WHERE probe_id = %(probe)s AND resolved_at IS NULL
RETURNING id
"""

_OPEN_INCIDENT_ID = """
SELECT id FROM incidents WHERE probe_id = %(probe)s AND resolved_at IS NULL
"""

_OUTBOX = """
INSERT INTO notify_events
    (project_id, probe_id, transition_id, incident_id, at, from_state, to_state, cause, reasons)
VALUES (%(project)s, %(probe)s, %(transition)s, %(incident)s, %(at)s, %(from)s, %(to)s,
        %(cause)s, %(reasons)s)
"""

# State seconds per UTC hour, recomputed from the transitions over [start, end):
# the hour holding ``end`` is partial until the next transition rebuilds it.
_REBUILD_ROLLUP = """
WITH seg AS (
    SELECT to_state AS state, at AS s,
           coalesce(lead(at) OVER (ORDER BY at, id), %(end)s) AS e
    FROM health_transitions
    WHERE probe_id = %(probe)s AND at >= coalesce(
        (SELECT max(at) FROM health_transitions
         WHERE probe_id = %(probe)s AND at <= date_trunc('hour', %(start)s::timestamptz, 'UTC')),
        '-infinity')
), hours AS (
    SELECT generate_series(date_trunc('hour', %(start)s::timestamptz, 'UTC'),
                           %(end)s::timestamptz - interval '1 microsecond',
                           interval '1 hour') AS h
), parts AS (
    SELECT h, state, extract(epoch FROM least(e, h + interval '1 hour') - greatest(s, h)) AS secs
    FROM hours JOIN seg ON seg.s < hours.h + interval '1 hour' AND seg.e > hours.h
)
INSERT INTO health_rollup_hourly AS r
    (probe_id, bucket, healthy_s, degraded_s, unhealthy_s, unknown_s)
SELECT %(probe)s, h,
       coalesce(sum(secs) FILTER (WHERE state = 'healthy'), 0),
       coalesce(sum(secs) FILTER (WHERE state = 'degraded'), 0),
       coalesce(sum(secs) FILTER (WHERE state = 'unhealthy'), 0),
       coalesce(sum(secs) FILTER (WHERE state = 'unknown'), 0)
FROM hours LEFT JOIN parts USING (h)
GROUP BY h
ON CONFLICT (probe_id, bucket) DO UPDATE SET
    healthy_s = excluded.healthy_s, degraded_s = excluded.degraded_s,
    unhealthy_s = excluded.unhealthy_s, unknown_s = excluded.unknown_s
"""

_LAST_TRANSITION_AT = "SELECT max(at) FROM health_transitions WHERE probe_id = %(probe)s"


async def record_transition(
    conn: AsyncConn, *, project_id: uuid.UUID, probe_id: uuid.UUID, transition: Transition
) -> datetime:
    """Store a state change, update the probe's incident and its health rollup.

    The change's time is clamped to the previous transition so the history stays ordered
    when results arrive late; the clamped time is returned.
    """
    previous = await (await conn.execute(_LAST_TRANSITION_AT, {"probe": probe_id})).fetchone()
    last: datetime | None = previous[0] if previous else None
    at = max(transition.at, last) if last else transition.at
    params = {
        "project": project_id,
        "probe": probe_id,
        "at": at,
        "from": transition.from_state,
        "to": transition.to_state,
        "reasons": Jsonb(transition.reasons),
        "cause": transition.cause,
    }
    transition_id = await _one(conn, _TRANSITION, params)
    if transition.to_state in ("degraded", "unhealthy"):
        incident = await _one(conn, _OPEN_INCIDENT, params)
    elif transition.to_state == "healthy":
        incident = await _one(conn, _RESOLVE_INCIDENT, params)
    else:
        incident = await _one(conn, _OPEN_INCIDENT_ID, params)
    await conn.execute(_OUTBOX, {**params, "transition": transition_id, "incident": incident})
    if last is not None:
        await conn.execute(_REBUILD_ROLLUP, {"probe": probe_id, "start": last, "end": at})
    return at


async def _one(conn: AsyncConn, query: LiteralString, params: Mapping[str, Any]) -> Any:
    """The first column of the first row ``query`` returns, or None."""
    row = await (await conn.execute(query, params)).fetchone()
    return row[0] if row else None
