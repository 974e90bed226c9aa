"""The notification pipeline end to end on the real database: a transition written by
``record_transition`` becomes an outbox event in the same transaction, the router fans
it out per channel, and the dispatcher delivers it to a real receiver."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from ipaddress import ip_network
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from notify.channels.webhook import new_signing_secret
from notify.dispatcher import Dispatcher
from notify.outbound import GuardedOutbound
from notify.router import route_once
from notify.ssrf import Guard
from store import transitions
from store.pool import transaction
from tests.conftest import Cluster, Run
from tests.integration.conftest import inserted_id, new_probe
from tests.integration.notify.receiver import Receiver, serving
from thresholds.transitions import Transition

pytestmark = pytest.mark.db

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def address(slug: str, domain: str | None) -> str:
    return f"https://status.example/s/{slug}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serving() as receiver:
        yield receiver


@pytest.fixture
def world(db: Cluster, run: Run[Any], receiver: Receiver) -> Iterator[dict[str, Any]]:
    """A committed project with one probe and one webhook channel to ``receiver``."""

    async def make() -> dict[str, Any]:
        async with await psycopg.AsyncConnection.connect(db.url, autocommit=True) as conn:
            project, probe = await new_probe(conn)
            secret = json.dumps({"signing_secrets": [new_signing_secret()]}).encode()
            channel = await inserted_id(
                conn,
                "INSERT INTO notify_channels (project_id, name, kind, config, secret)"
                " VALUES (%s, 'hook', 'webhook', %s, %s) RETURNING id",
                (project, Jsonb({"url": receiver.url}), secret),
            )
            return {"project": project, "probe": probe, "channel": channel}

    made = run(make())
    yield made

    async def drop() -> None:
        async with await psycopg.AsyncConnection.connect(db.url, autocommit=True) as conn:
            await conn.execute("DELETE FROM projects WHERE id = %s", (made["project"],))

    run(drop())


def change(
    run: Run[Any], db: Cluster, world: dict[str, Any], at: datetime, frm: str, to: str
) -> None:
    async def write() -> None:
        async with transaction(db.url) as conn:
            await transitions.record_transition(
                conn,
                project_id=world["project"],
                probe_id=world["probe"],
                transition=Transition(
                    at=at,
                    from_state=frm,
                    to_state=to,
                    cause=f"now {to}",
                    reasons=[
                        {
                            "state": to,
                            "rule": "critical",
                            "metric": "mos",
                            "value": 3.1,
                            "bound": 3.5,
                            "location": "ams",
                            "text": "mos 3.10 below critical 3.50 at ams",
                        }
                    ],
                ),
            )

    run(write())


def dispatcher(db: Cluster) -> Dispatcher:
    out = GuardedOutbound(Guard([ip_network("127.0.0.0/8")]), timeout_s=5)
    return Dispatcher(pool=db.url, outbound=out, unseal=json.loads, timeout_s=5)


def deliver_all(run: Run[Any], db: Cluster, now: datetime) -> int:
    async def go() -> int:
        routed = await route_once(db.url, address, now)
        sender = dispatcher(db)
        for claimed in await sender.claim(datetime.now(UTC), 100):
            await sender.attempt(claimed)
        return routed

    return run(go())


def test_an_unhealthy_transition_reaches_the_webhook_and_its_recovery_follows(
    run: Run[Any], db: Cluster, world: dict[str, Any], receiver: Receiver
) -> None:
    change(run, db, world, T0, "healthy", "unhealthy")
    assert deliver_all(run, db, T0) == 1
    change(run, db, world, T0 + timedelta(minutes=30), "unhealthy", "healthy")
    assert deliver_all(run, db, T0 + timedelta(minutes=30)) == 1
    first, second = receiver.wait_for(2, 10)
    down, up = first.json(), second.json()
    assert (down["type"], down["from_state"], down["to_state"]) == (
        "probe.health_changed",
        "healthy",
        "unhealthy",
    )
    assert down["probe"]["name"] == "trunk"
    assert down["reasons"][0]["value"] == 3.1
    assert up["to_state"] == "healthy"
    assert up["incident"]["dedup_key"] == down["incident"]["dedup_key"]
    assert first.headers["webhook-id"] != second.headers["webhook-id"]
    assert first.headers["webhook-id"].startswith("msg_")


def test_a_rolled_back_transition_leaves_no_notice(
    run: Run[Any], db: Cluster, world: dict[str, Any]
) -> None:
    async def write_and_fail() -> None:
        with pytest.raises(RuntimeError):
            async with transaction(db.url) as conn:
                await transitions.record_transition(
                    conn,
                    project_id=world["project"],
                    probe_id=world["probe"],
                    transition=Transition(
                        at=T0, from_state="healthy", to_state="unhealthy", cause="x", reasons=[]
                    ),
                )
                raise RuntimeError("the judging transaction fails after the transition")

    run(write_and_fail())

    async def events() -> int:
        async with transaction(db.url) as conn:
            row = await (
                await conn.execute(
                    "SELECT count(*) FROM notify_events WHERE probe_id = %s", (world["probe"],)
                )
            ).fetchone()
            return int(row[0])  # type: ignore[index]

    assert run(events()) == 0
