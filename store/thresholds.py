"""Repository of threshold rules: one per (probe, metric), scoped by project."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import LiteralString

from psycopg.rows import class_row

from store.errors import Conflict, NotFound
from store.pool import AsyncConn


@dataclass(frozen=True, kw_only=True, slots=True)
class Threshold:
    """A warning and/or critical bound on one metric of one probe."""

    id: uuid.UUID
    probe_id: uuid.UUID
    metric: str
    warning: float | None
    critical: float | None
    created_at: datetime


_LIST = (
    "SELECT id, probe_id, metric, warning, critical, created_at FROM thresholds"
    " WHERE project_id = %s AND probe_id = %s ORDER BY metric"
)
_INSERT = (
    "INSERT INTO thresholds (project_id, probe_id, metric, warning, critical)"
    " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (probe_id, metric) DO NOTHING"
    " RETURNING id, probe_id, metric, warning, critical, created_at"
)
_UPSERT = (
    "INSERT INTO thresholds (project_id, probe_id, metric, warning, critical)"
    " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (probe_id, metric) DO UPDATE"
    " SET warning = excluded.warning, critical = excluded.critical"
    " RETURNING id, probe_id, metric, warning, critical, created_at"
)
_DELETE = (
    "DELETE FROM thresholds WHERE project_id = %s AND probe_id = %s AND metric = %s RETURNING id"
)


async def list_thresholds(
    conn: AsyncConn, project_id: uuid.UUID, probe_id: uuid.UUID
) -> list[Threshold]:
    """The probe's rules by metric (the caller checks the probe exists)."""
    async with conn.cursor(row_factory=class_row(Threshold)) as cur:
        await cur.execute(_LIST, (project_id, probe_id))
        return await cur.fetchall()


async def add_threshold(
    conn: AsyncConn,
    project_id: uuid.UUID,
    probe_id: uuid.UUID,
    *,
    metric: str,
    warning: float | None,
    critical: float | None,
) -> Threshold:
    """Add a rule to a probe of the project; :class:`Conflict` if the metric has one."""
    row = await _write(conn, _INSERT, (project_id, probe_id, metric, warning, critical))
    if row is None:
        raise Conflict(f"probe already has a {metric} threshold: PUT it to replace it")
    return row


async def put_threshold(
    conn: AsyncConn,
    project_id: uuid.UUID,
    probe_id: uuid.UUID,
    *,
    metric: str,
    warning: float | None,
    critical: float | None,
) -> Threshold:
    """Create or replace the probe's rule on ``metric``."""
    row = await _write(conn, _UPSERT, (project_id, probe_id, metric, warning, critical))
    assert row is not None
    return row


async def delete_threshold(
    conn: AsyncConn, project_id: uuid.UUID, probe_id: uuid.UUID, metric: str
) -> None:
    """Delete the probe's rule on ``metric``, or :class:`NotFound`."""
    cur = await conn.execute(_DELETE, (project_id, probe_id, metric))
    if await cur.fetchone() is None:
        raise NotFound("threshold not found")


async def _write(
    conn: AsyncConn,
    query: LiteralString,
    params: tuple[uuid.UUID, uuid.UUID, str, float | None, float | None],
) -> Threshold | None:
    async with conn.cursor(row_factory=class_row(Threshold)) as cur:
        await cur.execute(query, params)
        return await cur.fetchone()
