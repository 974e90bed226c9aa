"""Fixtures of the notify tests.

They route the outbox, which the whole test cluster shares: results other tests ingested
left their transitions there, unrouted while no app of theirs dispatched. Each test
starts from an empty outbox, so a router pass sees only the test's own events. The
provider tests share a test CA (``tls``) and a guarded sender trusting it (``send``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from notify.router import route_once
from store import notices
from store.pool import transaction
from tests.conftest import Cluster, Run
from tests.integration.notify.providers import Send, Tls, make_tls, sender

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


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def send(run: Run[Any], tls: Tls) -> Iterator[Send]:
    with sender(run, tls) as send:
        yield send
