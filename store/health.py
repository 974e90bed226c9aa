"""Repository of health: evaluation inputs, current state, transitions and incidents read.

Judging reads results through ``store.observations`` and writes a transition (with
its incident) through ``store.transitions``.
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from store.pool import AsyncConn
from store.rows import fetch_all
from thresholds.transitions import StateRecord, StateTransition


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
    enabled: bool = True


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
class Incident:
    """A period when a probe was not healthy (``resolved_at`` null while open)."""

    id: uuid.UUID
    probe_id: uuid.UUID
    opened_at: datetime
    resolved_at: datetime | None
    worst_state: str
    cause: str


_CONFIGS = """
SELECT p.id AS probe_id, p.project_id, p.name, p.kind, p.interval_s, p.policy, p.options,
       p.enabled,
       coalesce((SELECT jsonb_agg(jsonb_build_object(
                    'metric', t.metric, 'warning', t.warning, 'critical', t.critical))
                 FROM thresholds t WHERE t.probe_id = p.id), '[]') AS rules,
       coalesce((SELECT array_agg(l.name ORDER BY l.name) FROM probe_locations pl
                 JOIN locations l ON l.id = pl.location_id WHERE pl.probe_id = p.id),
                '{}') AS locations
FROM probes p WHERE p.id = ANY(%(ids)s)
FOR KEY SHARE OF p
"""

_TRY_LOCK = "SELECT k, pg_try_advisory_xact_lock(k) FROM unnest(%s::bigint[]) AS k"

_HEALTH = """
SELECT probe_id, location, state, since, reasons, evaluated_at
FROM probe_health WHERE probe_id = ANY(%(ids)s)
"""

# One statement for the whole batch (an upsert per row was a round trip per state).
_SAVE_HEALTH = """
INSERT INTO probe_health AS h (probe_id, location, state, since, reasons, evaluated_at)
SELECT * FROM unnest(%(probes)b::uuid[], %(locations)b::text[], %(states)b::text[],
                     %(at)b::timestamptz[], %(reasons)b::jsonb[], %(evaluated)b::timestamptz[])
ORDER BY 1, 2
ON CONFLICT (probe_id, location) DO UPDATE SET
    since = CASE WHEN h.state = excluded.state THEN h.since ELSE excluded.since END,
    state = excluded.state, reasons = excluded.reasons, evaluated_at = excluded.evaluated_at
"""

_TRANSITIONS = """
SELECT at, from_state, to_state, reasons FROM health_transitions
WHERE probe_id = %(probe)s AND at >= %(start)s AND at < %(end)s ORDER BY at, id
"""

_INCIDENTS = """
SELECT id, probe_id, opened_at, resolved_at, worst_state, cause FROM incidents
WHERE project_id = %(project)s AND (%(probe)s::uuid IS NULL OR probe_id = %(probe)s)
  AND (%(open_only)s = false OR resolved_at IS NULL)
ORDER BY opened_at DESC LIMIT %(limit)s
"""


async def probe_configs(conn: AsyncConn, probe_ids: Sequence[uuid.UUID]) -> list[ProbeHealthConfig]:
    """Thresholds, policy and locations of the given probes, which stay until the caller's
    transaction ends: a probe deleted meanwhile would make the health written for it fail
    its foreign key (a delete waits; edits do not)."""
    return await fetch_all(conn, ProbeHealthConfig, _CONFIGS, {"ids": list(probe_ids)})


async def health_rows(conn: AsyncConn, probe_ids: Sequence[uuid.UUID]) -> list[HealthRow]:
    """Recorded states of the probes, overall ('') and per location."""
    return await fetch_all(conn, HealthRow, _HEALTH, {"ids": list(probe_ids)})


async def save_health(conn: AsyncConn, states: Mapping[uuid.UUID, Sequence[StateRecord]]) -> None:
    """Upsert probes' states (one statement: a location at most once a probe); ``since``
    moves only when a state changes."""
    rows = [(probe_id, s) for probe_id, records in states.items() for s in records]
    if rows:
        params = {
            "probes": [probe_id for probe_id, _ in rows],
            "locations": [s.location for _, s in rows],
            "states": [s.state for _, s in rows],
            "at": [s.at for _, s in rows],
            "reasons": [Jsonb(s.reasons) for _, s in rows],
            "evaluated": [s.evaluated_at for _, s in rows],
        }
        await conn.execute(_SAVE_HEALTH, params)


async def try_lock_probes(conn: AsyncConn, probe_ids: Sequence[uuid.UUID]) -> frozenset[uuid.UUID]:
    """Take the probes' advisory locks that are free, held until the transaction ends, so
    API replicas never judge one probe at once (nor record its transition twice); the
    probes locked."""
    keys = sorted({_lock_key(p) for p in probe_ids})
    rows = await (await conn.execute(_TRY_LOCK, (keys,))).fetchall()
    taken = {key for key, ok in rows if ok}
    return frozenset(p for p in probe_ids if _lock_key(p) in taken)


def _lock_key(probe_id: uuid.UUID) -> int:
    # Advisory locks take a bigint; crc32 of the id keeps the key stable across replicas.
    return zlib.crc32(probe_id.bytes)


async def transitions(
    conn: AsyncConn, probe_id: uuid.UUID, start: datetime, end: datetime
) -> list[StateTransition]:
    """A probe's transitions in [start, end), oldest first."""
    params = {"probe": probe_id, "start": start, "end": end}
    return await fetch_all(conn, StateTransition, _TRANSITIONS, params)


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
    return await fetch_all(conn, Incident, _INCIDENTS, params)


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
