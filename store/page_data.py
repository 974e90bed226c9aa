"""Repository reads a public status page renders from: current states, maintenance
windows and bucketed metric series of the page's probes.

Free of the probe result model (``store.health`` is not), so status pages may use it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from psycopg import sql

from store.metric_sql import LOSS_PCT, MOS
from store.pool import AsyncConn
from store.rows import fetch_all

_CURRENT = """
SELECT probe_id, state FROM probe_health WHERE probe_id = ANY(%(ids)s) AND location = ''
"""

# Project-wide windows, this page's windows and windows of the page's probes.
_WINDOWS = """
SELECT id, probe_id, title, starts_at, ends_at FROM maintenance_windows
WHERE project_id = %(project)s AND ends_at > %(start)s AND starts_at < %(end)s
  AND (probe_id = ANY(%(ids)s) OR (probe_id IS NULL AND (page_id IS NULL OR page_id = %(page)s)))
ORDER BY starts_at, id
"""

# Buckets of an hour or more add up the hourly rollup; shorter ones read the raw results
# (a day of one probe), with the rollup's own expressions for MOS and loss.
_FROM_ROLLUP = """
SELECT time_bucket(%(width)s, bucket, %(zone)s::text) AS bucket,
       sum(mos_sum) / nullif(sum(mos_n), 0) AS mos,
       sum(jitter_sum) / nullif(sum(jitter_n), 0) AS jitter_ms,
       sum(loss_sum) / nullif(sum(loss_n), 0) AS loss_pct,
       sum(pdd_sum) / nullif(sum(pdd_n), 0) AS pdd_ms
FROM result_rollup_hourly
WHERE probe_id = %(probe)s AND bucket >= %(start)s AND bucket < %(end)s
GROUP BY 1 ORDER BY 1
"""

_FROM_RESULTS = sql.SQL("""
SELECT time_bucket(%(width)s, started_at, %(zone)s::text) AS bucket,
       avg({mos}) AS mos,
       avg(jitter_ms) AS jitter_ms,
       avg({loss}) AS loss_pct,
       avg(pdd_ms) AS pdd_ms
FROM call_results
WHERE probe_id = %(probe)s AND started_at >= %(start)s AND started_at < %(end)s
GROUP BY 1 ORDER BY 1
""").format(mos=MOS, loss=LOSS_PCT)


@dataclass(frozen=True, kw_only=True, slots=True)
class PlannedWindow:
    """Maintenance affecting a page: ``probe_id`` None means every component."""

    id: uuid.UUID
    probe_id: uuid.UUID | None
    title: str
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class BucketMetrics:
    """Means over one time bucket across locations; None when nothing measured it."""

    bucket: datetime
    mos: float | None
    jitter_ms: float | None
    loss_pct: float | None
    pdd_ms: float | None


async def current_states(conn: AsyncConn, probe_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Each probe's overall state now; probes never judged are missing."""
    rows = await (await conn.execute(_CURRENT, {"ids": list(probe_ids)})).fetchall()
    return dict(rows)


async def planned_windows(
    conn: AsyncConn,
    project_id: uuid.UUID,
    page_id: uuid.UUID,
    probe_ids: Sequence[uuid.UUID],
    *,
    start: datetime,
    end: datetime,
) -> list[PlannedWindow]:
    """Windows overlapping ``[start, end)`` that affect the page."""
    params = {"project": project_id, "page": page_id, "ids": list(probe_ids)}
    return await fetch_all(conn, PlannedWindow, _WINDOWS, {**params, "start": start, "end": end})


async def metric_buckets(
    conn: AsyncConn,
    probe_id: uuid.UUID,
    *,
    start: datetime,
    end: datetime,
    width: timedelta,
    zone: str,
) -> list[BucketMetrics]:
    """A probe's means per ``width`` bucket of ``[start, end)`` (buckets aligned in the
    time zone ``zone``), oldest first; buckets without results are missing."""
    query = _FROM_ROLLUP if width >= timedelta(hours=1) else _FROM_RESULTS
    params = {"probe": probe_id, "start": start, "end": end, "width": width, "zone": zone}
    return await fetch_all(conn, BucketMetrics, query, params)
