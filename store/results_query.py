"""Reading a probe's stored results for the API: raw rows or TimescaleDB time buckets.

Queries are scoped by project and probe; the caller checks the probe exists.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from psycopg import sql

from probes.result import CallResult
from store.pool import AsyncConn
from store.results import COLUMNS, to_result
from store.rows import fetch_all

BUCKET_METRICS: tuple[str, ...] = (
    "pesq_mos", "emodel_mos", "jitter_ms", "rx_loss_pct", "rtt_ms", "pdd_ms", "setup_ms",
    "latency_ms",
)  # fmt: skip
"""Columns summarised per bucket (average, minimum, maximum)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Stat:
    """A metric over a bucket (null when nothing was measured)."""

    avg: float | None
    min: float | None
    max: float | None


@dataclass(frozen=True, kw_only=True, slots=True)
class Bucket:
    """Results of one time bucket: run counts and per-metric statistics."""

    bucket: datetime
    runs: int
    ok_runs: int
    metrics: dict[str, Stat]


_RAW = sql.SQL(
    "SELECT {columns} FROM call_results"
    " WHERE project_id = %s AND probe_id = %s AND started_at >= %s AND started_at < %s"
    " ORDER BY started_at DESC LIMIT %s"
).format(columns=sql.SQL(", ").join(map(sql.Identifier, COLUMNS)))


@lru_cache(maxsize=8)
def _bucketed_sql(metrics: tuple[str, ...]) -> sql.Composed:
    return sql.SQL(
        "SELECT time_bucket(%s, started_at) AS bucket, count(*) AS runs,"
        " count(*) FILTER (WHERE outcome = 'ok') AS ok_runs, {stats} FROM call_results"
        " WHERE project_id = %s AND probe_id = %s AND started_at >= %s AND started_at < %s"
        " GROUP BY 1 ORDER BY 1"
    ).format(
        stats=sql.SQL(", ").join(
            sql.SQL("{fn}({col}) AS {alias}").format(
                fn=sql.SQL(fn), col=sql.Identifier(col), alias=sql.Identifier(f"{col}__{fn}")
            )
            for col in metrics
            for fn in ("avg", "min", "max")
        )
    )


async def raw_results(
    conn: AsyncConn,
    project_id: uuid.UUID,
    probe_id: uuid.UUID,
    *,
    start: datetime,
    end: datetime,
    limit: int,
) -> list[CallResult]:
    """Results started in [start, end), newest first, at most ``limit``."""
    return await fetch_all(conn, to_result, _RAW, (project_id, probe_id, start, end, limit))


async def bucketed_results(
    conn: AsyncConn,
    project_id: uuid.UUID,
    probe_id: uuid.UUID,
    *,
    start: datetime,
    end: datetime,
    width: timedelta,
    metrics: Sequence[str] = BUCKET_METRICS,
) -> list[Bucket]:
    """Per ``width`` bucket of [start, end), oldest first: counts and statistics of
    ``metrics`` (columns of ``call_results``; the API's :data:`BUCKET_METRICS` unless told)."""

    def to_bucket(*, bucket: datetime, runs: int, ok_runs: int, **stats: float | None) -> Bucket:
        found = {
            col: Stat(avg=stats[f"{col}__avg"], min=stats[f"{col}__min"], max=stats[f"{col}__max"])
            for col in metrics
        }
        return Bucket(bucket=bucket, runs=runs, ok_runs=ok_runs, metrics=found)

    params = (width, project_id, probe_id, start, end)
    return await fetch_all(conn, to_bucket, _bucketed_sql(tuple(metrics)), params)
