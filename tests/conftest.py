"""Fixtures shared by every test level: the embedded test cluster and an event loop.

The session cluster lives in ``.var/pg-test`` on port 25433, apart from the
development one. There is no pytest-asyncio here: async code runs on one
session-wide event loop through the ``run`` fixture.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from store import cluster, migrate, pool

T = TypeVar("T")
Run = Callable[[Coroutine[Any, Any, T]], T]

TEST_PORT = 25433


@dataclass(frozen=True)
class Cluster:
    root: Path
    port: int
    url: str


def start_migrated(root: Path, port: int) -> str:
    """Start (or reuse) a cluster and apply the migrations."""
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
    url = start_migrated(root, TEST_PORT)
    yield Cluster(root=root, port=TEST_PORT, url=url)
    if not was_running:
        cluster.stop(root)
