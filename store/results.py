"""Repository of call results: the ``call_results`` hypertable.

Functions take a connection and never commit: the caller's transaction decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from psycopg import sql
from psycopg.rows import kwargs_row

from probes.result import CallResult, Outcome
from store.pool import AsyncConn

COLUMNS: tuple[str, ...] = tuple(field.name for field in fields(CallResult))
"""Table columns, named and ordered as CallResult's fields."""

_COLUMN_LIST = sql.SQL(", ").join(map(sql.Identifier, COLUMNS))

_INSERT = sql.SQL(
    "INSERT INTO call_results ({columns}) VALUES ({values}) ON CONFLICT DO NOTHING"
).format(columns=_COLUMN_LIST, values=sql.SQL(", ").join(sql.Placeholder() * len(COLUMNS)))

_RECENT = sql.SQL(
    "SELECT {columns} FROM call_results WHERE probe = %s ORDER BY started_at DESC LIMIT %s"
).format(columns=_COLUMN_LIST)


async def insert_results(conn: AsyncConn, results: Sequence[CallResult]) -> int:
    """Insert results, skipping any already stored; return how many rows are new."""
    if not results:
        return 0
    async with conn.cursor() as cur:
        await cur.executemany(_INSERT, [_params(result) for result in results])
        return cur.rowcount


async def recent_results(conn: AsyncConn, probe: str, limit: int = 100) -> list[CallResult]:
    """The probe's latest results, newest first."""
    async with conn.cursor(row_factory=kwargs_row(_to_result)) as cur:
        await cur.execute(_RECENT, (probe, limit))
        return await cur.fetchall()


def _params(result: CallResult) -> tuple[Any, ...]:
    return tuple(
        result.outcome.value if name == "outcome" else getattr(result, name) for name in COLUMNS
    )


def _to_result(**values: Any) -> CallResult:
    return CallResult(**{**values, "outcome": Outcome(values["outcome"])})
