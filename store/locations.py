"""Repository of locations: where agents run; names are unique per project."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from psycopg.rows import class_row

from store.errors import Conflict, NotFound
from store.pool import AsyncConn


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
    async with conn.cursor(row_factory=class_row(Location)) as cur:
        await cur.execute(_INSERT, (project_id, name))
        row = await cur.fetchone()
    if row is None:
        raise Conflict(f"location {name!r} already exists")
    return row


async def list_locations(conn: AsyncConn, project_id: uuid.UUID) -> list[Location]:
    """The project's locations by name."""
    async with conn.cursor(row_factory=class_row(Location)) as cur:
        await cur.execute(_LIST, (project_id,))
        return await cur.fetchall()


async def get_location(conn: AsyncConn, project_id: uuid.UUID, location_id: uuid.UUID) -> Location:
    """The project's location, or :class:`NotFound`."""
    async with conn.cursor(row_factory=class_row(Location)) as cur:
        await cur.execute(_GET, (project_id, location_id))
        row = await cur.fetchone()
    if row is None:
        raise NotFound("location not found")
    return row


async def delete_location(conn: AsyncConn, project_id: uuid.UUID, location_id: uuid.UUID) -> None:
    """Delete a location with its agents and schedules, or :class:`NotFound`."""
    if (await (await conn.execute(_DELETE, (project_id, location_id))).fetchone()) is None:
        raise NotFound("location not found")


async def location_ids(
    conn: AsyncConn, project_id: uuid.UUID, names: Sequence[str]
) -> dict[str, uuid.UUID]:
    """Ids of the project's locations among ``names`` (unknown names are absent)."""
    cur = await conn.execute(_BY_NAME, (project_id, list(names)))
    return {name: location_id for name, location_id in await cur.fetchall()}
