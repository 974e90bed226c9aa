"""Fixtures for tests against the embedded TimescaleDB cluster (``@pytest.mark.db``).

The session cluster lives in ``.var/pg-test`` on port 25433, apart from the
development one. There is no pytest-asyncio here: async code runs on one
session-wide event loop through the ``run`` fixture.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
import pytest

from store import cluster
from tests.conftest import Cluster, Run, start_migrated

OUTAGE_PORT = 25434


async def inserted_id(
    conn: psycopg.AsyncConnection[Any], query: str, params: Sequence[Any] = ()
) -> Any:
    """The id an ``INSERT … RETURNING id`` gives back."""
    row = await (await conn.execute(query, params)).fetchone()
    assert row is not None
    return row[0]


async def new_probe(
    conn: psycopg.AsyncConnection[Any],
    *,
    kind: str = "tcp",
    target: str = "h:1",
    interval_s: int = 60,
    timeout_s: float = 5,
) -> tuple[Any, Any]:
    """A new project with one probe (at no location yet): their ids."""
    project = await inserted_id(conn, "INSERT INTO projects (name) VALUES ('test') RETURNING id")
    probe = await inserted_id(
        conn,
        "INSERT INTO probes (project_id, name, kind, target, interval_s, timeout_s)"
        " VALUES (%s, 'trunk', %s, %s, %s, %s) RETURNING id",
        (project, kind, target, interval_s, timeout_s),
    )
    return project, probe


@pytest.fixture
def conn(db: Cluster, run: Run[Any]) -> Iterator[psycopg.AsyncConnection[Any]]:
    """A connection whose whole test runs in one transaction, rolled back afterwards."""
    connection = run(psycopg.AsyncConnection.connect(db.url))
    try:
        yield connection
    finally:
        run(connection.rollback())
        run(connection.close())


@pytest.fixture
def outage_cluster() -> Iterator[Cluster]:
    """A second cluster of its own, for tests that stop and restart the server."""
    root = cluster.default_root("pg-outage")
    url = start_migrated(root, OUTAGE_PORT)
    yield Cluster(root=root, port=OUTAGE_PORT, url=url)
    cluster.stop(root)
