"""Change notices for status pages across API processes (PostgreSQL LISTEN/NOTIFY).

A page write announces its slug in the same transaction; every process listening
drops what it cached for that slug when the transaction commits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import psycopg

from store.pool import AsyncConn

CHANNEL = "callprobe_pages"
log = logging.getLogger(__name__)


async def announce(conn: AsyncConn, slug: str) -> None:
    """Tell every process that the page at ``slug`` changed (sent on commit)."""
    await conn.execute("SELECT pg_notify('callprobe_pages', %s)", (slug,))


async def listen(url: str, on_change: Callable[[str], None], stop: asyncio.Event) -> None:
    """Call ``on_change(slug)`` for each notice until ``stop``; reconnects after a
    lost connection, then calls ``on_change("")`` (notices may have been missed)."""
    delay, reconnect = 0.5, False
    while not stop.is_set():
        try:
            async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
                await conn.execute("LISTEN callprobe_pages")
                if reconnect:
                    on_change("")
                delay = 0.5
                while not stop.is_set():
                    async for notice in conn.notifies(timeout=0.5):
                        on_change(notice.payload)
        except psycopg.OperationalError as exc:
            reconnect = True
            log.warning("page change listener lost its connection", extra={"error": str(exc)})
            try:
                await asyncio.wait_for(stop.wait(), delay)
            except TimeoutError:
                delay = min(delay * 2, 10.0)
