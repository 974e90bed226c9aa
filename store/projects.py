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


_INSERT = "INSERT INTO projects (name) VALUES (%s) RETURNING id, name, created_at"
_GET = "SELECT id, name, created_at FROM projects WHERE id = %s"


async def create_project(conn: AsyncConn, name: str) -> Project:
    """Create a project."""
    return await fetch_new(conn, Project, _INSERT, (name,))


async def get_project(conn: AsyncConn, project_id: uuid.UUID) -> Project:
    """The project, or :class:`NotFound`."""
    return await fetch_found(conn, Project, _GET, (project_id,), missing="project not found")


async def count_projects(conn: AsyncConn) -> int:
    """How many projects the instance has."""
    row = await (await conn.execute("SELECT count(*) FROM projects")).fetchone()
    return int(row[0]) if row else 0
