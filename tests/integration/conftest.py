"""Fixtures for tests against the embedded TimescaleDB cluster (``@pytest.mark.db``).

The session cluster lives in ``.var/pg-test`` on port 55433, apart from the
development one. There is no pytest-asyncio here: async code runs on one
session-wide event loop through the ``run`` fixture.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest

from store import cluster, migrate, pool

T = TypeVar("T")
Run = Callable[[Coroutine[Any, Any, T]], T]

TEST_PORT = 55433
OUTAGE_PORT = 55434


@dataclass(frozen=True)
class Cluster:
    root: Path
    port: int
    url: str


def _start_migrated(root: Path, port: int) -> str:
    url = cluster.start(root, port)
    with pool.connect(url) as conn:
        migrate.migrate(conn)
    return url


@pytest.fixture(scope="session")
def run() -> Iterator[Run[Any]]:
    """Run a coroutine to completion on the session's event loop."""
    with asyncio.Runner() as runner:
        yield runner.run


@pytest.fixture(scope="session")
def db() -> Iterator[Cluster]:
    """The migrated test cluster; stopped at the end only if this session started it."""
    root = cluster.default_root("pg-test")
    was_running = cluster.status(root).running
    url = _start_migrated(root, TEST_PORT)
    yield Cluster(root=root, port=TEST_PORT, url=url)
    if not was_running:
        cluster.stop(root)


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
    url = _start_migrated(root, OUTAGE_PORT)
    yield Cluster(root=root, port=OUTAGE_PORT, url=url)
    cluster.stop(root)
