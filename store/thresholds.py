"""Repository of threshold rules: one per (probe, metric), scoped by project."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from store.errors import Conflict
from store.pool import AsyncConn
from store.rows import fetch_all, fetch_new, fetch_one, write_found
from thresholds.rules import Rule


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
    return await fetch_all(conn, Threshold, _LIST, (project_id, probe_id))


async def add_threshold(
    conn: AsyncConn, project_id: uuid.UUID, probe_id: uuid.UUID, rule: Rule
) -> Threshold:
    """Add a rule to a probe of the project; :class:`Conflict` if the metric has one."""
    row = await fetch_one(conn, Threshold, _INSERT, _params(project_id, probe_id, rule))
    if row is None:
        raise Conflict(f"probe already has a {rule.metric} threshold: PUT it to replace it")
    return row


async def put_threshold(
    conn: AsyncConn, project_id: uuid.UUID, probe_id: uuid.UUID, rule: Rule
) -> Threshold:
    """Create or replace the probe's rule on its metric."""
    return await fetch_new(conn, Threshold, _UPSERT, _params(project_id, probe_id, rule))


async def delete_threshold(
    conn: AsyncConn, project_id: uuid.UUID, probe_id: uuid.UUID, metric: str
) -> None:
    """Delete the probe's rule on ``metric``, or :class:`NotFound`."""
    params = (project_id, probe_id, metric)
    await write_found(conn, _DELETE, params, missing="threshold not found")


def _params(project_id: uuid.UUID, probe_id: uuid.UUID, rule: Rule) -> tuple[object, ...]:
    return (project_id, probe_id, rule.metric, rule.warning, rule.critical)
