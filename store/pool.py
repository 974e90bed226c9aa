"""Connections: the process's async pool, a transaction helper and a sync connect for the CLI.

Create one pool per process with :func:`create_pool` at the composition root and
open it in the FastAPI lifespan (``await pool.open()``); nothing here keeps a
global. Whatever means "the database is not there" (connection refused, server
shutting down, pool exhausted) leaves this module as :class:`DatabaseUnavailable`,
and a statement cancelled by the pool's ``statement_timeout`` as its subclass
:class:`StatementTimeout`, so callers outside ``store`` never handle psycopg
exceptions.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeAlias

import psycopg
from psycopg_pool import AsyncConnectionPool

from store.errors import DatabaseUnavailable, StatementTimeout

AsyncConn: TypeAlias = psycopg.AsyncConnection[Any]
Pool: TypeAlias = AsyncConnectionPool[AsyncConn]

CONNECT_TIMEOUT_S = 5


def create_pool(
    url: str,
    *,
    min_size: int = 1,
    max_size: int = 10,
    timeout: float = CONNECT_TIMEOUT_S,
    statement_timeout_ms: int | None = None,
) -> Pool:
    """An unopened pool; connections are checked on checkout so a DB restart heals itself.

    ``timeout`` bounds the wait for a connection: past it the database counts as
    unavailable. ``statement_timeout_ms`` (set on every connection at connect
    time) bounds each statement, so no session holds a connection for long.
    Connections are in autocommit mode: :func:`transaction` opens its own, and
    :func:`statement` runs one statement without BEGIN/COMMIT round trips.
    """
    kwargs: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT_S, "autocommit": True}
    if statement_timeout_ms is not None:
        kwargs["options"] = f"-c statement_timeout={int(statement_timeout_ms)}"
    return AsyncConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        timeout=timeout,
        kwargs=kwargs,
        check=AsyncConnectionPool.check_connection,
        open=False,
    )


@asynccontextmanager
async def transaction(source: str | Pool) -> AsyncIterator[AsyncConn]:
    """A connection inside a transaction, committed when the block succeeds.

    ``source`` is a pool or, for one-off work such as the agent-side sink, a URL
    (then a connection is opened and closed around the block).
    """
    try:
        async with _connection(source) as conn, conn.transaction():
            yield conn
    except psycopg.OperationalError as exc:
        raise _unavailable(exc) from exc


@asynccontextmanager
async def statement(source: str | Pool) -> AsyncIterator[AsyncConn]:
    """A connection for one statement (its own implicit transaction): hot read paths."""
    try:
        async with _connection(source) as conn:
            yield conn
    except psycopg.OperationalError as exc:
        raise _unavailable(exc) from exc


@contextmanager
def connect(url: str) -> Iterator[psycopg.Connection[Any]]:
    """A sync connection for the CLI and migrations; committed on success, then closed."""
    try:
        with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            yield conn
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(f"database unavailable: {exc}") from exc


def _unavailable(exc: psycopg.OperationalError) -> DatabaseUnavailable:
    if isinstance(exc, psycopg.errors.QueryCanceled):
        return StatementTimeout(f"the database gave up on a statement: {exc}")
    return DatabaseUnavailable(f"database unavailable: {exc}")


@asynccontextmanager
async def _connection(source: str | Pool) -> AsyncIterator[AsyncConn]:
    if isinstance(source, str):
        async with await psycopg.AsyncConnection.connect(
            source, connect_timeout=CONNECT_TIMEOUT_S, autocommit=True
        ) as conn:
            yield conn
    else:
        async with source.connection() as conn:
            yield conn
