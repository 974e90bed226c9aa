"""How repositories run a statement: its rows built by keyword from their column names,
and a missing row turned into :class:`NotFound`.

``make`` is a row dataclass (its fields are the columns) or a function taking the
columns as keywords (psycopg's ``kwargs_row``, which for a class is ``class_row``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import LiteralString, TypeAlias, TypeVar

from psycopg import sql
from psycopg.abc import Params
from psycopg.rows import kwargs_row

from store.errors import NotFound
from store.pool import AsyncConn

T = TypeVar("T")
Query: TypeAlias = LiteralString | sql.SQL | sql.Composed


async def fetch_all(
    conn: AsyncConn, make: Callable[..., T], query: Query, params: Params | None = None
) -> list[T]:
    """Every row of ``query``."""
    async with conn.cursor(row_factory=kwargs_row(make)) as cur:
        await cur.execute(query, params)
        return await cur.fetchall()


async def fetch_one(
    conn: AsyncConn, make: Callable[..., T], query: Query, params: Params | None = None
) -> T | None:
    """The first row of ``query``, or None when it returns none."""
    async with conn.cursor(row_factory=kwargs_row(make)) as cur:
        await cur.execute(query, params)
        return await cur.fetchone()


async def fetch_found(
    conn: AsyncConn, make: Callable[..., T], query: Query, params: Params, *, missing: str
) -> T:
    """The first row of ``query``, or :class:`NotFound` saying ``missing``."""
    row = await fetch_one(conn, make, query, params)
    if row is None:
        raise NotFound(missing)
    return row


async def fetch_new(conn: AsyncConn, make: Callable[..., T], query: Query, params: Params) -> T:
    """The row an ``INSERT … RETURNING`` that always inserts gives back."""
    row = await fetch_one(conn, make, query, params)
    assert row is not None
    return row


async def write_found(conn: AsyncConn, query: Query, params: Params, *, missing: str) -> None:
    """Run a write that RETURNs what it touched; :class:`NotFound` saying ``missing`` when
    it touched nothing."""
    if await (await conn.execute(query, params)).fetchone() is None:
        raise NotFound(missing)
