"""Repository of health: evaluation inputs, current state, transitions, incidents, rollup.

Incidents are derived from transitions as they are recorded: a probe that leaves
``healthy`` for ``degraded`` or ``unhealthy`` opens one (at most one open per
probe), a worse state raises its severity, and a return to ``healthy`` resolves
it. ``unknown`` (no data) leaves an open incident open: nobody knows it ended.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import sql
from psycopg.rows import class_row, kwargs_row
from psycopg.types.json import Jsonb

from probes.result import CallResult
from store.pool import AsyncConn
from store.results import to_result


@dataclass(frozen=True, kw_only=True, slots=True)
class ProbeHealthConfig:
    """What the evaluation of one probe needs besides its results."""

    probe_id: uuid.UUID
    project_id: uuid.UUID
    name: str
    kind: str
    interval_s: int
    policy: dict[str, Any]
    options: dict[str, Any]
    rules: list[dict[str, Any]]
    locations: list[str]


@dataclass(frozen=True, kw_only=True, slots=True)
class HealthRow:
    """A probe's recorded state (``location`` '' = the probe as a whole)."""

    probe_id: uuid.UUID
    location: str
    state: str
    since: datetime
    reasons: list[dict[str, Any]]
    evaluated_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class Transition:
    """One recorded change of a probe's overall state."""

    id: int
    probe_id: uuid.UUID
    at: datetime
    from_state: str
    to_state: str
    reasons: list[dict[str, Any]]


@dataclass(frozen=True, kw_only=True, slots=True)
class Incident:
    """A period when a probe was not healthy."""

    id: uuid.UUID
    probe_id: uuid.UUID
    opened_at: datetime
    resolved_at: datetime | None
    worst_state: str
    cause: str


_CONFIGS = """
SELECT p.id AS probe_id, p.project_id, p.name, p.kind, p.interval_s, p.policy, p.options,
       coalesce((SELECT jsonb_agg(jsonb_build_object(
                    'metric', t.metric, 'warning', t.warning, 'critical', t.critical))
                 FROM thresholds t WHERE t.probe_id = p.id), '[]') AS rules,
       coalesce((SELECT array_agg(l.name ORDER BY l.name) FROM probe_locations pl
                 JOIN locations l ON l.id = pl.location_id WHERE pl.probe_id = p.id),
                '{}') AS locations
FROM probes p WHERE p.id = ANY(%(ids)s)
"""

_ENABLED_PROBES = "SELECT id FROM probes WHERE enabled ORDER BY id"

HISTORY_COLUMNS: tuple[str, ...] = (
    *("run_id", "probe", "probe_id", "location", "kind", "target", "started_at", "outcome"),
    *("sip_status", "status_code", "pesq_mos", "emodel_mos", "r_factor", "jitter_ms"),
    *("rx_loss_pct", "tx_loss_pct", "rtt_ms", "pdd_ms", "setup_ms", "register_ms"),
    *("latency_ms", "load_cpu", "load_ram"),
)
"""The columns health evaluation reads (the rest of a result keeps its defaults)."""

# The newest ``depth`` results per probe and location the probe runs at (push
# probes report from 'push'): one short range of the (probe, location, time) index each.
_RECENT = sql.SQL("""
SELECT {columns}
FROM unnest(%(ids)s::uuid[], %(depths)s::int[]) AS w(probe_id, depth)
CROSS JOIN LATERAL (
    SELECT l.name FROM probe_locations pl JOIN locations l ON l.id = pl.location_id
    WHERE pl.probe_id = w.probe_id
    UNION SELECT 'push'
) AS loc(name)
CROSS JOIN LATERAL (
    SELECT * FROM call_results c
    WHERE c.probe_id = w.probe_id AND c.location = loc.name AND c.started_at >= %(since)s
    ORDER BY c.started_at DESC
    LIMIT w.depth
) AS r
""").format(columns=sql.SQL(", ").join(sql.Identifier("r", c) for c in HISTORY_COLUMNS))

_HEALTH = """
SELECT probe_id, location, state, since, reasons, evaluated_at
FROM probe_health WHERE probe_id = ANY(%(ids)s)
"""

_SAVE_HEALTH = """
INSERT INTO probe_health AS h (probe_id, location, state, since, reasons, evaluated_at)
VALUES (%(probe)s, %(location)s, %(state)s, %(at)s, %(reasons)s, %(evaluated)s)
ON CONFLICT (probe_id, location) DO UPDATE SET
    since = CASE WHEN h.state = excluded.state THEN h.since ELSE excluded.since END,
    state = excluded.state, reasons = excluded.reasons, evaluated_at = excluded.evaluated_at
"""

_TRANSITION = """
INSERT INTO health_transitions (project_id, probe_id, at, from_state, to_state, reasons)
VALUES (%(project)s, %(probe)s, %(at)s, %(from)s, %(to)s, %(reasons)s)
"""

_OPEN_INCIDENT = """
INSERT INTO incidents (project_id, probe_id, opened_at, worst_state, cause)
VALUES (%(project)s, %(probe)s, %(at)s, %(to)s, %(cause)s)
ON CONFLICT (probe_id) WHERE resolved_at IS NULL DO UPDATE SET
    worst_state = CASE WHEN incidents.worst_state = 'unhealthy' THEN 'unhealthy'
                       ELSE excluded.worst_state END,
    cause = CASE WHEN excluded.worst_state = 'unhealthy' AND incidents.worst_state <> 'unhealthy'
                 THEN excluded.cause ELSE incidents.cause END
"""

_RESOLVE_INCIDENT = """
UPDATE incidents SET resolved_at = %(at)s WHERE probe_id = %(probe)s AND resolved_at IS NULL
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

_TRANSITIONS = """
SELECT id, probe_id, at, from_state, to_state, reasons FROM health_transitions
WHERE probe_id = %(probe)s AND at >= %(start)s AND at < %(end)s ORDER BY at, id
"""

_INCIDENTS = """
SELECT id, probe_id, opened_at, resolved_at, worst_state, cause FROM incidents
WHERE project_id = %(project)s AND (%(probe)s::uuid IS NULL OR probe_id = %(probe)s)
  AND (%(open_only)s = false OR resolved_at IS NULL)
ORDER BY opened_at DESC LIMIT %(limit)s
"""


async def probe_configs(conn: AsyncConn, probe_ids: Sequence[uuid.UUID]) -> list[ProbeHealthConfig]:
    """Thresholds, policy and locations of the given probes."""
    async with conn.cursor(row_factory=class_row(ProbeHealthConfig)) as cur:
        await cur.execute(_CONFIGS, {"ids": list(probe_ids)})
        return await cur.fetchall()


async def enabled_probe_ids(conn: AsyncConn) -> list[uuid.UUID]:
    """Every enabled probe of every project (the sweeper re-evaluates them on a clock)."""
    return [row[0] for row in await (await conn.execute(_ENABLED_PROBES)).fetchall()]


ROWS_PER_PAGE = 500
"""History rows converted between two chances for other requests to run."""


async def recent_results(
    conn: AsyncConn, depths: dict[uuid.UUID, int], since: datetime
) -> dict[uuid.UUID, list[CallResult]]:
    """The newest ``depths[probe]`` results of each probe at each of its locations since
    ``since`` (only :data:`HISTORY_COLUMNS` are read)."""
    ids = list(depths)
    params = {"ids": ids, "depths": [depths[i] for i in ids], "since": since}
    grouped: dict[uuid.UUID, list[CallResult]] = {pid: [] for pid in ids}
    async with conn.cursor(row_factory=kwargs_row(to_result)) as cur:
        await cur.execute(_RECENT, params)
        while page := await cur.fetchmany(ROWS_PER_PAGE):
            for result in page:
                if result.probe_id is not None:
                    grouped[result.probe_id].append(result)
            # Rows become results here, on the API's event loop: a chunk of probes
            # seen from 50 locations is ~20,000 rows, a few hundred ms in one go.
            await asyncio.sleep(0)
    return grouped


async def health_rows(conn: AsyncConn, probe_ids: Sequence[uuid.UUID]) -> list[HealthRow]:
    """Recorded states of the probes, overall ('') and per location."""
    async with conn.cursor(row_factory=class_row(HealthRow)) as cur:
        await cur.execute(_HEALTH, {"ids": list(probe_ids)})
        return await cur.fetchall()


@dataclass(frozen=True, kw_only=True, slots=True)
class HealthUpdate:
    """One probe's state at one location ('' for overall) as just evaluated."""

    probe_id: uuid.UUID
    location: str
    state: str
    at: datetime
    reasons: list[dict[str, Any]]
    evaluated_at: datetime


async def save_health(conn: AsyncConn, updates: Sequence[HealthUpdate]) -> None:
    """Upsert states (one pipelined batch); ``since`` moves only when a state changes."""
    params = [
        {
            "probe": u.probe_id,
            "location": u.location,
            "state": u.state,
            "at": u.at,
            "reasons": Jsonb(u.reasons),
            "evaluated": u.evaluated_at,
        }
        for u in updates
    ]
    if params:
        async with conn.cursor() as cur:
            await cur.executemany(_SAVE_HEALTH, params)


async def record_transition(
    conn: AsyncConn,
    *,
    project_id: uuid.UUID,
    probe_id: uuid.UUID,
    at: datetime,
    from_state: str,
    to_state: str,
    reasons: list[dict[str, Any]],
    cause: str,
) -> datetime:
    """Store a state change, update the probe's incident and its health rollup.

    ``at`` is clamped to the previous transition so the history stays ordered
    when results arrive late; the clamped time is returned.
    """
    previous = await (await conn.execute(_LAST_TRANSITION_AT, {"probe": probe_id})).fetchone()
    last: datetime | None = previous[0] if previous else None
    at = max(at, last) if last else at
    params = {
        "project": project_id,
        "probe": probe_id,
        "at": at,
        "from": from_state,
        "to": to_state,
        "reasons": Jsonb(reasons),
        "cause": cause,
    }
    await conn.execute(_TRANSITION, params)
    if to_state in ("degraded", "unhealthy"):
        await conn.execute(_OPEN_INCIDENT, params)
    elif to_state == "healthy":
        await conn.execute(_RESOLVE_INCIDENT, params)
    if last is not None:
        await conn.execute(_REBUILD_ROLLUP, {"probe": probe_id, "start": last, "end": at})
    return at


async def transitions(
    conn: AsyncConn, probe_id: uuid.UUID, start: datetime, end: datetime
) -> list[Transition]:
    """A probe's transitions in [start, end), oldest first."""
    async with conn.cursor(row_factory=class_row(Transition)) as cur:
        await cur.execute(_TRANSITIONS, {"probe": probe_id, "start": start, "end": end})
        return await cur.fetchall()


async def incidents(
    conn: AsyncConn,
    project_id: uuid.UUID,
    *,
    probe_id: uuid.UUID | None = None,
    open_only: bool = False,
    limit: int = 100,
) -> list[Incident]:
    """A project's incidents, newest first, optionally for one probe or only open ones."""
    params = {"project": project_id, "probe": probe_id, "open_only": open_only, "limit": limit}
    async with conn.cursor(row_factory=class_row(Incident)) as cur:
        await cur.execute(_INCIDENTS, params)
        return await cur.fetchall()


_OWNED = "SELECT 1 FROM probes WHERE id = %(probe)s AND project_id = %(project)s"

_PUSH_PROBE = "SELECT id, project_id FROM probes WHERE push_token_hash = %(hash)s AND enabled"


async def probe_in_project(conn: AsyncConn, project_id: uuid.UUID, probe_id: uuid.UUID) -> bool:
    """Whether the probe exists in the project (other projects' probes do not)."""
    params = {"probe": probe_id, "project": project_id}
    return await (await conn.execute(_OWNED, params)).fetchone() is not None


async def probe_for_push_token(
    conn: AsyncConn, token_hash: bytes
) -> tuple[uuid.UUID, uuid.UUID] | None:
    """(probe id, project id) of the enabled push probe holding this token hash."""
    row = await (await conn.execute(_PUSH_PROBE, {"hash": token_hash})).fetchone()
    return None if row is None else (row[0], row[1])
