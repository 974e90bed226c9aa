"""Repository of projects: the tenants every other row belongs to."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from psycopg.rows import class_row

from store.errors import NotFound
from store.pool import AsyncConn


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
    async with conn.cursor(row_factory=class_row(Project)) as cur:
        await cur.execute(_INSERT, (name,))
        row = await cur.fetchone()
    assert row is not None
    return row


async def get_project(conn: AsyncConn, project_id: uuid.UUID) -> Project:
    """The project, or :class:`NotFound`."""
    async with conn.cursor(row_factory=class_row(Project)) as cur:
        await cur.execute(_GET, (project_id,))
        row = await cur.fetchone()
    if row is None:
        raise NotFound("project not found")
    return row
