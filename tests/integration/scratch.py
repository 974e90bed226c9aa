"""A throwaway database in the session's test cluster, for tests whose work reaches past
their own rows (drop_chunks drops every row older than its cut; a fake schema version
refuses every caller): created with TimescaleDB, migrated, dropped afterwards."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

from store import cluster, migrate
from tests.conftest import Cluster


@contextlib.contextmanager
def scratch_database(db: Cluster, prefix: str, *, migrated: bool = True) -> Iterator[str]:
    """The URL of a new database (migrated unless told not), dropped on the way out."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    url = cluster.create_database(db.root, name)
    try:
        if migrated:
            migrate.migrate_database(url)
        yield url
    finally:
        cluster.drop_database(db.root, name)
