"""Repository of call results: the ``call_results`` hypertable.

Functions take a connection and never commit: the caller's transaction decides.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any, LiteralString

from psycopg import sql

from probes.result import CallResult, Outcome
from store.metric_sql import LOSS_PCT, MOS
from store.pool import AsyncConn
from store.rows import fetch_all

COLUMNS: tuple[str, ...] = tuple(field.name for field in fields(CallResult))
"""Table columns, named and ordered as CallResult's fields."""

_COLUMN_LIST = sql.SQL(", ").join(map(sql.Identifier, COLUMNS))

# Batches are copied into a per-connection staging table, then moved in one
# statement that skips stored run ids: 12,600-13,300 rows/s against 8,400-8,600 for
# a pipelined executemany of INSERT ... ON CONFLICT (500-row batches, measured here).
# With its defaults, so a column results do not carry (received_at) gets its own.
_STAGE = (
    "CREATE TEMP TABLE IF NOT EXISTS staged_results"
    " (LIKE call_results INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
)
_COPY = sql.SQL("COPY staged_results ({columns}, project_id) FROM STDIN").format(
    columns=_COLUMN_LIST
)
_MOVE = (
    "INSERT INTO call_results SELECT * FROM staged_results ON CONFLICT DO NOTHING RETURNING run_id"
)

# Counts and sums only: adding a late or replayed batch is one more increment.
_ROLLUP_OF: LiteralString = """
INSERT INTO result_rollup_hourly AS r (
    probe_id, location, bucket, runs, ok_runs, mos_sum, mos_n, jitter_sum, jitter_n,
    loss_sum, loss_n, pdd_sum, pdd_n, latency_sum, latency_n)
SELECT probe_id, coalesce(location, ''), time_bucket('1 hour', started_at), count(*),
       count(*) FILTER (WHERE outcome = 'ok'),
       coalesce(sum({mos}), 0), count({mos}),
       coalesce(sum(jitter_ms), 0), count(jitter_ms),
       coalesce(sum({loss}), 0), count({loss}),
       coalesce(sum(pdd_ms), 0), count(pdd_ms),
       coalesce(sum(latency_ms), 0), count(latency_ms)
FROM {source}
WHERE {which} AND probe_id IS NOT NULL
GROUP BY 1, 2, 3
ON CONFLICT (probe_id, location, bucket) DO UPDATE SET
    runs = r.runs + excluded.runs, ok_runs = r.ok_runs + excluded.ok_runs,
    mos_sum = r.mos_sum + excluded.mos_sum, mos_n = r.mos_n + excluded.mos_n,
    jitter_sum = r.jitter_sum + excluded.jitter_sum, jitter_n = r.jitter_n + excluded.jitter_n,
    loss_sum = r.loss_sum + excluded.loss_sum, loss_n = r.loss_n + excluded.loss_n,
    pdd_sum = r.pdd_sum + excluded.pdd_sum, pdd_n = r.pdd_n + excluded.pdd_n,
    latency_sum = r.latency_sum + excluded.latency_sum,
    latency_n = r.latency_n + excluded.latency_n
"""


def _rollup(which: LiteralString, source: LiteralString = "call_results") -> sql.Composed:
    """The hourly rollup's increment by the results of ``source`` that ``which`` selects."""
    return sql.SQL(_ROLLUP_OF).format(
        mos=MOS, loss=LOSS_PCT, source=sql.Identifier(source), which=sql.SQL(which)
    )


_ROLLUP = _rollup("run_id = ANY(%(ids)s)")
_ROLLUP_SINCE = _rollup("project_id = %(project)s AND started_at >= %(since)s")

# The move and the rollup in one statement: the new rows are counted as they are
# returned, not read back by run id (a lookup in every chunk's index for each id).
_MOVE_COUNTED = sql.SQL(
    "WITH moved AS (INSERT INTO call_results SELECT * FROM staged_results"
    " ON CONFLICT DO NOTHING RETURNING *), counted AS ({rollup}) SELECT run_id FROM moved"
).format(rollup=_rollup("true", "moved"))

_RECENT = sql.SQL(
    "SELECT {columns} FROM call_results WHERE probe = %s ORDER BY started_at DESC LIMIT %s"
).format(columns=_COLUMN_LIST)


async def record_results(
    conn: AsyncConn, results: Sequence[CallResult], project_id: uuid.UUID | None = None
) -> list[uuid.UUID]:
    """Store results and count the new ones into the hourly rollup; returns the new run ids.

    A run id already stored is skipped, so a replayed result is neither stored nor counted
    twice.
    """
    return await _insert(conn, results, project_id, _MOVE_COUNTED)


async def insert_results(
    conn: AsyncConn, results: Sequence[CallResult], project_id: uuid.UUID | None = None
) -> int:
    """Insert results, skipping any already stored; return how many rows are new."""
    return len(await _insert(conn, results, project_id, _MOVE))


async def add_to_rollups(conn: AsyncConn, run_ids: Sequence[uuid.UUID]) -> None:
    """Count newly stored results (by run id, each exactly once) into the hourly rollup."""
    if run_ids:
        await conn.execute(_ROLLUP, {"ids": list(run_ids)})


async def add_to_rollups_since(conn: AsyncConn, project_id: uuid.UUID, since: datetime) -> None:
    """Count a project's results stored since ``since`` into the hourly rollup, in one statement.

    For bulk loads that bypass ``record_results`` (the status page bench's seed): none of
    those results may have been counted before.
    """
    await conn.execute(_ROLLUP_SINCE, {"project": project_id, "since": since})


async def _insert(
    conn: AsyncConn,
    results: Sequence[CallResult],
    project_id: uuid.UUID | None,
    move: LiteralString | sql.Composed,
) -> list[uuid.UUID]:
    if not results:
        return []
    # A savepoint inside the caller's transaction, a transaction of its own otherwise,
    # so the staged rows are always cleared at commit.
    async with conn.transaction(), conn.cursor() as cur:
        await cur.execute(_STAGE)
        async with cur.copy(_COPY) as copy:
            for result in results:
                await copy.write_row((*_params(result), project_id))
        await cur.execute(move)
        return [row[0] for row in await cur.fetchall()]


async def recent_results(conn: AsyncConn, probe: str, limit: int = 100) -> list[CallResult]:
    """The probe's latest results, newest first."""
    return await fetch_all(conn, to_result, _RECENT, (probe, limit))


def _params(result: CallResult) -> tuple[Any, ...]:
    return tuple(
        result.outcome.value if name == "outcome" else getattr(result, name) for name in COLUMNS
    )


def to_result(**values: Any) -> CallResult:
    """Map a row (as keyword arguments) to a result."""
    return CallResult(**{**values, "outcome": Outcome(values["outcome"])})
