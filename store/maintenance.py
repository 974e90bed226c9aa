"""Repository of maintenance windows: time excluded from uptime, project- or probe-wide."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from psycopg.rows import class_row

from store.errors import NotFound
from store.pool import AsyncConn


@dataclass(frozen=True, kw_only=True, slots=True)
class MaintenanceWindow:
    """Planned work; ``probe_id`` None means the whole project (or ``page_id``'s page)."""

    id: uuid.UUID
    project_id: uuid.UUID
    probe_id: uuid.UUID | None
    page_id: uuid.UUID | None
    title: str
    starts_at: datetime
    ends_at: datetime
    created_at: datetime


_INSERT = (
    "INSERT INTO maintenance_windows (project_id, probe_id, page_id, title, starts_at, ends_at)"
    " VALUES (%s, %s, %s, %s, %s, %s)"
    " RETURNING id, project_id, probe_id, page_id, title, starts_at, ends_at, created_at"
)
_LIST = (
    "SELECT id, project_id, probe_id, page_id, title, starts_at, ends_at, created_at"
    " FROM maintenance_windows WHERE project_id = %s ORDER BY starts_at, id"
)
_DELETE = "DELETE FROM maintenance_windows WHERE project_id = %s AND id = %s RETURNING id"


async def create_window(
    conn: AsyncConn,
    project_id: uuid.UUID,
    *,
    probe_id: uuid.UUID | None,
    page_id: uuid.UUID | None,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
) -> MaintenanceWindow:
    """Store a window (the caller checks ``probe_id`` belongs to the project)."""
    params = (project_id, probe_id, page_id, title, starts_at, ends_at)
    async with conn.cursor(row_factory=class_row(MaintenanceWindow)) as cur:
        await cur.execute(_INSERT, params)
        row = await cur.fetchone()
    assert row is not None
    return row


async def list_windows(conn: AsyncConn, project_id: uuid.UUID) -> list[MaintenanceWindow]:
    """The project's windows by start."""
    async with conn.cursor(row_factory=class_row(MaintenanceWindow)) as cur:
        await cur.execute(_LIST, (project_id,))
        return await cur.fetchall()


async def delete_window(conn: AsyncConn, project_id: uuid.UUID, window_id: uuid.UUID) -> None:
    """Delete a window of the project, or :class:`NotFound`."""
    if (await (await conn.execute(_DELETE, (project_id, window_id))).fetchone()) is None:
        raise NotFound("maintenance window not found")
