"""Repository of what operators add to incidents: who acknowledged one and when, their
internal notes (never shown on public pages), and the incident list with both.

An incident is opened and resolved by ``store.transitions``; nothing here changes that.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from store.pool import AsyncConn
from store.rows import fetch_all, fetch_found, fetch_new


@dataclass(frozen=True, kw_only=True, slots=True)
class TrackedIncident:
    """An incident with its probe's name and its acknowledgement (null until one)."""

    id: uuid.UUID
    probe_id: uuid.UUID
    probe_name: str
    opened_at: datetime
    resolved_at: datetime | None
    worst_state: str
    cause: str
    acknowledged_at: datetime | None
    acknowledged_by: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class Note:
    """An internal note on an incident."""

    id: uuid.UUID
    incident_id: uuid.UUID
    author: str
    body: str
    created_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class Step:
    """A health transition of an incident's probe while the incident was open."""

    incident_id: uuid.UUID
    at: datetime
    from_state: str
    to_state: str


_SELECT = """
SELECT i.id, i.probe_id, p.name AS probe_name, i.opened_at, i.resolved_at, i.worst_state,
       i.cause, i.acknowledged_at, i.acknowledged_by
FROM incidents i JOIN probes p ON p.id = i.probe_id
"""
_GET = _SELECT + "WHERE i.project_id = %(project)s AND i.id = %(id)s"
_LIST = (
    _SELECT
    + """WHERE i.project_id = %(project)s
  AND (%(probes)s::uuid[] IS NULL OR i.probe_id = ANY(%(probes)s))
ORDER BY i.resolved_at IS NULL DESC, i.opened_at DESC LIMIT %(limit)s"""
)
_ACKNOWLEDGE = """
UPDATE incidents SET acknowledged_at = now(), acknowledged_by = %(who)s
WHERE project_id = %(project)s AND id = %(id)s AND acknowledged_at IS NULL
RETURNING id
"""
_NOTES = """
SELECT n.id, n.incident_id, n.author, n.body, n.created_at
FROM incident_notes n JOIN incidents i ON i.id = n.incident_id
WHERE i.project_id = %(project)s AND n.incident_id = ANY(%(ids)s)
ORDER BY n.created_at, n.id
"""
_ADD_NOTE = """
INSERT INTO incident_notes (incident_id, author, body) VALUES (%(id)s, %(author)s, %(body)s)
RETURNING id, incident_id, author, body, created_at
"""
_STEPS = """
SELECT i.id AS incident_id, t.at, t.from_state, t.to_state
FROM incidents i JOIN health_transitions t ON t.probe_id = i.probe_id
WHERE i.project_id = %(project)s AND i.id = ANY(%(ids)s)
  AND t.at >= i.opened_at AND t.at <= coalesce(i.resolved_at, now())
ORDER BY t.at, t.id
"""


async def get_incident(
    conn: AsyncConn, project_id: uuid.UUID, incident_id: uuid.UUID
) -> TrackedIncident:
    """An incident of the project, or :class:`NotFound`."""
    params = {"project": project_id, "id": incident_id}
    return await fetch_found(conn, TrackedIncident, _GET, params, missing="incident not found")


async def list_incidents(
    conn: AsyncConn,
    project_id: uuid.UUID,
    *,
    probe_ids: Sequence[uuid.UUID] | None = None,
    limit: int = 100,
) -> list[TrackedIncident]:
    """The project's incidents, open ones first, then newest first; optionally only
    those of ``probe_ids``."""
    probes = None if probe_ids is None else list(probe_ids)
    params = {"project": project_id, "probes": probes, "limit": limit}
    return await fetch_all(conn, TrackedIncident, _LIST, params)


async def acknowledge(
    conn: AsyncConn, project_id: uuid.UUID, incident_id: uuid.UUID, who: str
) -> bool:
    """Record ``who`` acknowledged the incident now; False (nothing changed) when it
    was acknowledged already."""
    params = {"project": project_id, "id": incident_id, "who": who}
    return await (await conn.execute(_ACKNOWLEDGE, params)).fetchone() is not None


async def notes(
    conn: AsyncConn, project_id: uuid.UUID, incident_ids: Sequence[uuid.UUID]
) -> list[Note]:
    """The notes of the project's incidents among ``incident_ids``, oldest first."""
    params = {"project": project_id, "ids": list(incident_ids)}
    return await fetch_all(conn, Note, _NOTES, params)


async def add_note(conn: AsyncConn, incident_id: uuid.UUID, author: str, body: str) -> Note:
    """Store a note on an incident (the caller checked it is the project's)."""
    params = {"id": incident_id, "author": author, "body": body}
    return await fetch_new(conn, Note, _ADD_NOTE, params)


async def steps(
    conn: AsyncConn, project_id: uuid.UUID, incident_ids: Sequence[uuid.UUID]
) -> list[Step]:
    """The transitions of each incident's probe from its opening to its resolution (or
    now), oldest first."""
    params = {"project": project_id, "ids": list(incident_ids)}
    return await fetch_all(conn, Step, _STEPS, params)
