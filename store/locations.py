"""Repository of locations: where agents run; names are unique per project."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from store.errors import Conflict
from store.pool import AsyncConn
from store.rows import fetch_all, fetch_found, fetch_one, write_found


@dataclass(frozen=True, kw_only=True, slots=True)
class Location:
    """A named place probes run from."""

    id: uuid.UUID
    project_id: uuid.UUID
    name: str
    created_at: datetime


_INSERT = (
    "INSERT INTO locations (project_id, name) VALUES (%s, %s)"
    " ON CONFLICT (project_id, name) DO NOTHING RETURNING id, project_id, name, created_at"
)
_LIST = "SELECT id, project_id, name, created_at FROM locations WHERE project_id = %s ORDER BY name"
_GET = "SELECT id, project_id, name, created_at FROM locations WHERE project_id = %s AND id = %s"
_DELETE = "DELETE FROM locations WHERE project_id = %s AND id = %s RETURNING id"
_BY_NAME = "SELECT name, id FROM locations WHERE project_id = %s AND name = ANY(%s)"


async def create_location(conn: AsyncConn, project_id: uuid.UUID, name: str) -> Location:
    """Create a location; :class:`Conflict` when the project already has that name."""
    row = await fetch_one(conn, Location, _INSERT, (project_id, name))
    if row is None:
        raise Conflict(f"location {name!r} already exists")
    return row


async def list_locations(conn: AsyncConn, project_id: uuid.UUID) -> list[Location]:
    """The project's locations by name."""
    return await fetch_all(conn, Location, _LIST, (project_id,))


async def get_location(conn: AsyncConn, project_id: uuid.UUID, location_id: uuid.UUID) -> Location:
    """The project's location, or :class:`NotFound`."""
    params = (project_id, location_id)
    return await fetch_found(conn, Location, _GET, params, missing="location not found")


async def delete_location(conn: AsyncConn, project_id: uuid.UUID, location_id: uuid.UUID) -> None:
    """Delete a location with its agents and schedules, or :class:`NotFound`."""
    await write_found(conn, _DELETE, (project_id, location_id), missing="location not found")


async def location_ids(
    conn: AsyncConn, project_id: uuid.UUID, names: Sequence[str]
) -> dict[str, uuid.UUID]:
    """Ids of the project's locations among ``names`` (unknown names are absent)."""
    cur = await conn.execute(_BY_NAME, (project_id, list(names)))
    return {name: location_id for name, location_id in await cur.fetchall()}
