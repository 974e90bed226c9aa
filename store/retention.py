"""Retention: what the hourly pass deletes, per project, and compression where it exists.

Raw rows (``call_results``, ``runs``, finished notification deliveries and routed
outbox events) live a project's ``raw_retention_days``; the hourly rollups that status
pages read live its ``rollup_retention_days`` (at least 90, plus one day of slack so the
oldest bar of a page in any time zone stays whole). Whole ``call_results`` chunks older
than the longest raw retention go with ``drop_chunks`` (a file unlink, not a scan);
projects keeping less lose the rest by DELETE. Audit entries, incidents and health
transitions are kept: they are small and they are the record.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, LiteralString, TypeAlias

from store.pool import AsyncConn

LOCK_KEY = 0x63702D726574656E
"""Advisory-lock key ("cp-reten" in ASCII): one retention pass at a time across replicas."""

DEFAULT_RAW_DAYS = 30
"""Raw retention of results without a project (``callprobe call`` / ``run``), and the
column default."""

ROLLUP_SLACK_DAYS = 1

Params: TypeAlias = Sequence[Any] | Mapping[str, Any]


@dataclass(frozen=True, kw_only=True, slots=True)
class Pruned:
    """What one pass removed."""

    chunks: int
    results: int
    runs: int
    deliveries: int
    events: int
    rollups: int


_DROP_CHUNKS = (
    "SELECT count(*) FROM drop_chunks('call_results',"
    " older_than => now() - make_interval(days => %s))"
)
_RAW_GROUPS = "SELECT raw_retention_days, array_agg(id) FROM projects GROUP BY 1 ORDER BY 1"
_ROLLUP_GROUPS = "SELECT rollup_retention_days, array_agg(id) FROM projects GROUP BY 1 ORDER BY 1"
_RESULTS = (
    "DELETE FROM call_results WHERE project_id = ANY(%(ids)s)"
    " AND started_at < now() - make_interval(days => %(days)s)"
)
_RAW_ROWS: tuple[LiteralString, ...] = (
    "DELETE FROM runs WHERE project_id = ANY(%(ids)s)"
    " AND due_at < now() - make_interval(days => %(days)s)",
    "DELETE FROM notify_deliveries WHERE project_id = ANY(%(ids)s)"
    " AND state IN ('delivered', 'dead') AND created_at < now() - make_interval(days => %(days)s)",
    "DELETE FROM notify_events WHERE project_id = ANY(%(ids)s) AND routed_at IS NOT NULL"
    " AND at < now() - make_interval(days => %(days)s)",
)
_ORPHANS = (
    "DELETE FROM call_results WHERE project_id IS NULL"
    " AND started_at < now() - make_interval(days => %s)"
)
_ROLLUPS: tuple[LiteralString, ...] = (
    "DELETE FROM result_rollup_hourly r USING probes p WHERE r.probe_id = p.id"
    " AND p.project_id = ANY(%(ids)s) AND r.bucket < now() - make_interval(days => %(days)s)",
    "DELETE FROM health_rollup_hourly r USING probes p WHERE r.probe_id = p.id"
    " AND p.project_id = ANY(%(ids)s) AND r.bucket < now() - make_interval(days => %(days)s)",
)


async def prune(conn: AsyncConn) -> Pruned | None:
    """One retention pass in the caller's transaction; None when another process holds
    the retention lock (it is released with the transaction)."""
    if not await _scalar(conn, "SELECT pg_try_advisory_xact_lock(%s)", (LOCK_KEY,)):
        return None
    await conn.execute("SET LOCAL statement_timeout = 0")
    chunks, (results, runs, deliveries, events) = await _prune_raw(conn)
    rollups = 0
    for days, ids in await _groups(conn, _ROLLUP_GROUPS):
        params = {"ids": ids, "days": days + ROLLUP_SLACK_DAYS}
        rollups += sum([await _deleted(conn, query, params) for query in _ROLLUPS])
    return Pruned(
        chunks=chunks, results=results, runs=runs, deliveries=deliveries, events=events,
        rollups=rollups,
    )  # fmt: skip


async def _prune_raw(conn: AsyncConn) -> tuple[int, list[int]]:
    """Drop the result chunks past the longest raw retention, delete the results that
    projects keeping less no longer keep, and every project's old raw rows elsewhere:
    (chunks dropped, [results, runs, deliveries, events] deleted)."""
    groups = await _groups(conn, _RAW_GROUPS)
    longest = max([DEFAULT_RAW_DAYS, *(days for days, _ in groups)])
    chunks = int(await _scalar(conn, _DROP_CHUNKS, (longest,)))
    counts = [0] * (1 + len(_RAW_ROWS))
    for days, ids in groups:
        params = {"ids": ids, "days": days}
        if days < longest:
            counts[0] += await _deleted(conn, _RESULTS, params)
        for n, query in enumerate(_RAW_ROWS, start=1):
            counts[n] += await _deleted(conn, query, params)
    if longest > DEFAULT_RAW_DAYS:
        counts[0] += await _deleted(conn, _ORPHANS, (DEFAULT_RAW_DAYS,))
    return chunks, counts


async def license_edition(conn: AsyncConn) -> str:
    """TimescaleDB's edition: ``timescale`` (full: compression, policies) or ``apache``."""
    return str(await _scalar(conn, "SELECT current_setting('timescaledb.license')", ()))


COMPRESSION: tuple[LiteralString, ...] = (
    "ALTER TABLE call_results SET (timescaledb.compress,"
    " timescaledb.compress_segmentby = 'probe_id',"
    " timescaledb.compress_orderby = 'started_at DESC')",
    "SELECT add_compression_policy('call_results',"
    " compress_after => make_interval(days => %s), if_not_exists => true)",
)
"""Native compression of ``call_results`` chunks older than N days (full edition only)."""


async def enable_compression(conn: AsyncConn, after_days: int) -> None:
    """Compress raw chunks older than ``after_days`` from now on (full edition only; the
    Apache edition refuses these statements)."""
    enabled = await _scalar(
        conn,
        "SELECT compression_enabled FROM timescaledb_information.hypertables"
        " WHERE hypertable_name = 'call_results'",
        (),
    )
    if not enabled:
        await conn.execute(COMPRESSION[0])
    await conn.execute(COMPRESSION[1], (after_days,))


async def _groups(conn: AsyncConn, query: LiteralString) -> list[tuple[int, list[uuid.UUID]]]:
    """Projects grouped by one retention column: (days, project ids)."""
    cur = await conn.execute(query)
    return [(int(days), list(ids)) for days, ids in await cur.fetchall()]


async def _deleted(conn: AsyncConn, query: LiteralString, params: Params) -> int:
    cur = await conn.execute(query, params)
    return max(cur.rowcount, 0)


async def _scalar(conn: AsyncConn, query: LiteralString, params: Params) -> Any:
    row = await (await conn.execute(query, params)).fetchone()
    return None if row is None else row[0]
