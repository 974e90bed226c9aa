"""Repository of projects: the tenants every other row belongs to."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from store.pool import AsyncConn
from store.rows import fetch_found, fetch_new


@dataclass(frozen=True, kw_only=True, slots=True)
class Project:
    """A tenant."""

    id: uuid.UUID
    name: str
    created_at: datetime
    raw_retention_days: int
    """Days raw results (and runs, finished deliveries) are kept (store/retention.py)."""
    rollup_retention_days: int
    """Days the hourly rollups that status pages read are kept (at least 90)."""


_INSERT = (
    "INSERT INTO projects (name) VALUES (%s)"
    " RETURNING id, name, created_at, raw_retention_days, rollup_retention_days"
)
_GET = (
    "SELECT id, name, created_at, raw_retention_days, rollup_retention_days"
    " FROM projects WHERE id = %s"
)
_SET_RETENTION = (
    "UPDATE projects SET raw_retention_days = coalesce(%(raw)s, raw_retention_days),"
    " rollup_retention_days = coalesce(%(rollup)s, rollup_retention_days) WHERE id = %(id)s"
    " RETURNING id, name, created_at, raw_retention_days, rollup_retention_days"
)


async def create_project(conn: AsyncConn, name: str) -> Project:
    """Create a project."""
    return await fetch_new(conn, Project, _INSERT, (name,))


async def get_project(conn: AsyncConn, project_id: uuid.UUID) -> Project:
    """The project, or :class:`NotFound`."""
    return await fetch_found(conn, Project, _GET, (project_id,), missing="project not found")


async def set_retention(
    conn: AsyncConn, project_id: uuid.UUID, *, raw_days: int | None, rollup_days: int | None
) -> Project:
    """Change the retention days given (None: unchanged); the project as it is now."""
    params = {"id": project_id, "raw": raw_days, "rollup": rollup_days}
    return await fetch_found(conn, Project, _SET_RETENTION, params, missing="project not found")


async def count_projects(conn: AsyncConn) -> int:
    """How many projects the instance has."""
    row = await (await conn.execute("SELECT count(*) FROM projects")).fetchone()
    return int(row[0]) if row else 0
