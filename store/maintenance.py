"""Repository of maintenance windows: time excluded from uptime, project- or probe-wide."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from store.pool import AsyncConn
from store.rows import fetch_all, fetch_new, write_found


@dataclass(frozen=True, kw_only=True, slots=True)
class MaintenanceWindow:
    """Planned work of a project; ``probe_id`` null means the whole project (or
    ``page_id``'s page)."""

    id: uuid.UUID
    probe_id: uuid.UUID | None
    page_id: uuid.UUID | None
    title: str
    starts_at: datetime
    ends_at: datetime
    created_at: datetime


_INSERT = (
    "INSERT INTO maintenance_windows (project_id, probe_id, page_id, title, starts_at, ends_at)"
    " VALUES (%s, %s, %s, %s, %s, %s)"
    " RETURNING id, probe_id, page_id, title, starts_at, ends_at, created_at"
)
_LIST = (
    "SELECT id, probe_id, page_id, title, starts_at, ends_at, created_at"
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
    return await fetch_new(conn, MaintenanceWindow, _INSERT, params)


async def list_windows(conn: AsyncConn, project_id: uuid.UUID) -> list[MaintenanceWindow]:
    """The project's windows by start."""
    return await fetch_all(conn, MaintenanceWindow, _LIST, (project_id,))


async def delete_window(conn: AsyncConn, project_id: uuid.UUID, window_id: uuid.UUID) -> None:
    """Delete a window of the project, or :class:`NotFound`."""
    await write_found(
        conn, _DELETE, (project_id, window_id), missing="maintenance window not found"
    )
