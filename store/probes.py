"""Repository of probes and their locations; secrets stay encrypted bytes here.

Every function is scoped by project: another project's probe is simply not found.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from store.errors import NotFound
from store.pool import AsyncConn
from store.rows import fetch_all, fetch_found, write_found


@dataclass(frozen=True, kw_only=True, slots=True)
class ProbeFields:
    """What an operator defines (validated by the caller)."""

    name: str
    kind: str
    target: str
    replicas: list[str]
    interval_s: int
    timeout_s: float
    enabled: bool
    options: dict[str, Any]
    policy: dict[str, Any]
    tags: list[str]


@dataclass(frozen=True, kw_only=True, slots=True)
class Probe(ProbeFields):
    """A stored probe: its definition, ``has_secret`` instead of the secret, location
    names sorted."""

    id: uuid.UUID
    project_id: uuid.UUID
    has_secret: bool
    locations: list[str]
    created_at: datetime
    updated_at: datetime


_SELECT = """
SELECT p.id, p.project_id, p.name, p.kind, p.target, p.replicas, p.interval_s, p.timeout_s,
       p.enabled, p.options, p.policy, p.tags, p.secret IS NOT NULL AS has_secret,
       coalesce((SELECT array_agg(l.name ORDER BY l.name) FROM probe_locations pl
                 JOIN locations l ON l.id = pl.location_id WHERE pl.probe_id = p.id),
                '{}') AS locations,
       p.created_at, p.updated_at
FROM probes p
"""
_GET = _SELECT + " WHERE p.project_id = %s AND p.id = %s"
_LIST = _SELECT + " WHERE p.project_id = %s ORDER BY p.name, p.id"
_INSERT = """
INSERT INTO probes (project_id, name, kind, target, replicas, interval_s, timeout_s, enabled,
                    options, policy, tags, secret, push_token_hash)
VALUES (%(project)s, %(name)s, %(kind)s, %(target)s, %(replicas)s, %(interval_s)s,
        %(timeout_s)s, %(enabled)s, %(options)s, %(policy)s, %(tags)s, %(secret)s, %(push)s)
RETURNING id
"""
_UPDATE = """
UPDATE probes SET name = %(name)s, target = %(target)s, replicas = %(replicas)s,
    interval_s = %(interval_s)s, timeout_s = %(timeout_s)s, enabled = %(enabled)s,
    options = %(options)s, policy = %(policy)s, tags = %(tags)s, updated_at = now()
WHERE project_id = %(project)s AND id = %(id)s
RETURNING id
"""
_SET_CIPHERTEXT = (
    "UPDATE probes SET secret = %s, updated_at = now() WHERE project_id = %s AND id = %s"
)
_EXISTS = "SELECT 1 FROM probes WHERE project_id = %s AND id = %s"
_DELETE = "DELETE FROM probes WHERE project_id = %s AND id = %s RETURNING id"
_CLEAR_LOCATIONS = "DELETE FROM probe_locations WHERE probe_id = %s"
_ADD_LOCATIONS = (
    "INSERT INTO probe_locations (probe_id, location_id)"
    " SELECT %s, unnest(%s::uuid[]) ON CONFLICT DO NOTHING"
)


async def create_probe(
    conn: AsyncConn,
    project_id: uuid.UUID,
    fields: ProbeFields,
    *,
    location_ids: Sequence[uuid.UUID],
    secret: bytes | None = None,
    push_token_hash: bytes | None = None,
) -> Probe:
    """Create a probe at the given locations (ids already checked to be the project's)."""
    params = {**_params(fields), "project": project_id, "secret": secret, "push": push_token_hash}
    row = await (await conn.execute(_INSERT, params)).fetchone()
    assert row is not None
    await _set_locations(conn, row[0], location_ids)
    return await get_probe(conn, project_id, row[0])


async def get_probe(conn: AsyncConn, project_id: uuid.UUID, probe_id: uuid.UUID) -> Probe:
    """The project's probe, or :class:`NotFound` (also for another project's probe)."""
    return await fetch_found(conn, Probe, _GET, (project_id, probe_id), missing="probe not found")


async def probe_exists(conn: AsyncConn, project_id: uuid.UUID, probe_id: uuid.UUID) -> bool:
    """Whether the project has this probe."""
    return await (await conn.execute(_EXISTS, (project_id, probe_id))).fetchone() is not None


async def list_probes(conn: AsyncConn, project_id: uuid.UUID) -> list[Probe]:
    """The project's probes by name."""
    return await fetch_all(conn, Probe, _LIST, (project_id,))


async def update_probe(
    conn: AsyncConn,
    project_id: uuid.UUID,
    probe_id: uuid.UUID,
    fields: ProbeFields,
    *,
    location_ids: Sequence[uuid.UUID],
) -> Probe:
    """Replace a probe's definition (its kind never changes), or :class:`NotFound`."""
    params = {**_params(fields), "project": project_id, "id": probe_id}
    await write_found(conn, _UPDATE, params, missing="probe not found")
    await _set_locations(conn, probe_id, location_ids)
    return await get_probe(conn, project_id, probe_id)


async def set_secret(
    conn: AsyncConn, project_id: uuid.UUID, probe_id: uuid.UUID, secret: bytes | None
) -> None:
    """Replace (or clear, with None) the probe's encrypted secret."""
    cur = await conn.execute(_SET_CIPHERTEXT, (secret, project_id, probe_id))
    if cur.rowcount == 0:
        raise NotFound("probe not found")


async def delete_probe(conn: AsyncConn, project_id: uuid.UUID, probe_id: uuid.UUID) -> None:
    """Delete a probe with everything hanging off it, or :class:`NotFound`."""
    await write_found(conn, _DELETE, (project_id, probe_id), missing="probe not found")


async def _set_locations(
    conn: AsyncConn, probe_id: uuid.UUID, location_ids: Sequence[uuid.UUID]
) -> None:
    await conn.execute(_CLEAR_LOCATIONS, (probe_id,))
    if location_ids:
        await conn.execute(_ADD_LOCATIONS, (probe_id, list(location_ids)))


def _params(fields: ProbeFields) -> dict[str, Any]:
    return {
        "name": fields.name, "kind": fields.kind, "target": fields.target,
        "replicas": fields.replicas, "interval_s": fields.interval_s,
        "timeout_s": fields.timeout_s, "enabled": fields.enabled,
        "options": Jsonb(fields.options), "policy": Jsonb(fields.policy), "tags": fields.tags,
    }  # fmt: skip
