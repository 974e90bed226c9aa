"""Notify tests route the outbox, which the whole test cluster shares: results other tests
ingested left their transitions there, unrouted while no app of theirs dispatched. Each
test starts from an empty outbox, so a router pass sees only the test's own events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from notify.router import route_once
from store import notices
from store.pool import transaction
from tests.conftest import Cluster, Run

PASSES = 200


@pytest.fixture(autouse=True)
def empty_outbox(db: Cluster, run: Run[Any]) -> None:
    async def drain() -> None:
        for _ in range(PASSES):
            async with transaction(db.url) as conn:
                if not await notices.pending_events(conn, 1):
                    return
            await route_once(db.url, lambda slug, domain: slug, datetime.now(UTC))
        raise AssertionError(f"the outbox still holds events after {PASSES} router passes")

    run(drain())
