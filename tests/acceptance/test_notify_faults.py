"""Delivery under faults, in real time against real loopback receivers: broken receivers
that recover, a dispatcher process killed with SIGKILL mid-send, a dead-lettered notice
redelivered, and two dispatchers sharing one queue. Receivers dedupe by ``webhook-id``;
what the dispatcher believes is read from the delivery log (``store.deliveries``)."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from api.services.notifications import seal
from api.settings import Settings
from bench import platform_harness as harness
from notify.backoff import Backoff
from notify.channels.webhook import new_signing_secret
from notify.dispatcher import Dispatcher, Loop
from notify.dispatcher import run as dispatch
from notify.outbound import GuardedOutbound
from notify.ssrf import Guard
from store import channels, deliveries, projects, transitions
from store.deliveries import AttemptRow, Claimed, DeliveryRow
from store.pool import transaction
from store.probes import ProbeFields, create_probe
from tests.conftest import Cluster, Run
from tests.integration.notify.receiver import Answer, Receiver, Request, serving
from thresholds.transitions import Transition

pytestmark = pytest.mark.db

LOOPBACK = Guard([ip_network("127.0.0.0/8")])
NO_FLAP = {"flap": None}


def address(slug: str, domain: str | None) -> str:
    return f"https://status.example/s/{slug}"


@dataclass(frozen=True)
class World:
    project: uuid.UUID
    probes: list[uuid.UUID]
    channels: list[uuid.UUID]


@pytest.fixture
def made(db: Cluster, run: Run[Any]) -> Iterator[list[uuid.UUID]]:
    """Projects a test made, deleted (with everything in them) when it ends."""
    ids: list[uuid.UUID] = []
    yield ids

    async def drop() -> None:
        async with await psycopg.AsyncConnection.connect(db.url, autocommit=True) as conn:
            await conn.execute("DELETE FROM projects WHERE id = ANY(%s)", (ids,))

    run(drop())


async def world(
    url: str, made: list[uuid.UUID], probes: int, hooks: list[tuple[str, bytes]]
) -> World:
    """A committed project with ``probes`` probes and one webhook channel per (url, secret)."""
    async with transaction(url) as conn:
        project = (await projects.create_project(conn, f"faults {uuid.uuid4().hex[:8]}")).id
        made.append(project)
        probe_ids = [
            (await create_probe(conn, project, _probe(n), location_ids=[])).id
            for n in range(probes)
        ]
        channel_ids = [
            (
                await channels.create_channel(
                    conn, project, name=f"hook {n}", kind="webhook", config={"url": hook},
                    secret=secret, rules=NO_FLAP,
                )
            ).id
            for n, (hook, secret) in enumerate(hooks)
        ]  # fmt: skip
    return World(project=project, probes=probe_ids, channels=channel_ids)


def _probe(n: int) -> ProbeFields:
    return ProbeFields(
        name=f"trunk {n}", kind="tcp", target="127.0.0.1:9", replicas=[], interval_s=60,
        timeout_s=5, enabled=True, options={}, policy={}, tags=[],
    )  # fmt: skip


def plain_secret() -> bytes:
    """A webhook channel's secret as in-process dispatchers read it (``unseal=json.loads``)."""
    return json.dumps({"signing_secrets": [new_signing_secret()]}).encode()


async def record(url: str, project: uuid.UUID, probes: list[uuid.UUID], step: int) -> None:
    """Transition ``step`` (0: to unhealthy, 1: back to healthy, ...) of every probe,
    25 probes a transaction as judging writes them."""
    states = ("healthy", "unhealthy")
    at = datetime.now(UTC) - timedelta(hours=2) + timedelta(minutes=20 * step)
    for start in range(0, len(probes), 25):
        async with transaction(url) as conn:
            for probe in probes[start : start + 25]:
                change = Transition(
                    at=at, from_state=states[step % 2], to_state=states[(step + 1) % 2],
                    cause=f"step {step}", reasons=[],
                )  # fmt: skip
                await transitions.record_transition(
                    conn, project_id=project, probe_id=probe, transition=change
                )


async def log(url: str, w: World, channel: uuid.UUID) -> tuple[list[DeliveryRow], list[AttemptRow]]:
    """A channel's deliveries (oldest first) and all their attempts."""
    async with transaction(url) as conn:
        rows = await deliveries.list_deliveries(
            conn, w.project, channel, state=None, before=None, limit=1000
        )
        return rows[::-1], await deliveries.attempts_of(conn, [row.id for row in rows])


async def until(check: Callable[[], Awaitable[bool]], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.5)


async def all_delivered(url: str, w: World, count: int) -> bool:
    rows = [row for channel in w.channels for row in (await log(url, w, channel))[0]]
    return len(rows) == count and all(row.state == "delivered" for row in rows)


def keys(rows: list[DeliveryRow]) -> set[str]:
    return {f"msg_{row.id.hex}" for row in rows}


def once_each(receiver: Receiver) -> dict[str, Request]:
    """Accepted requests by webhook-id (the receiver's dedupe), asserting no repeat."""
    taken = receiver.accepted()
    by_id = {request.headers["webhook-id"]: request for request in taken}
    assert len(by_id) == len(taken), "a notice was accepted twice"
    return by_id


def in_order_per_probe(requests: list[Request], steps: int) -> None:
    """Each probe's notices arrived in transition order: event ids and times rising."""
    per_probe: dict[str, list[dict[str, Any]]] = {}
    for request in sorted(requests, key=lambda r: r.at):
        notice = request.json()
        per_probe.setdefault(notice["probe"]["id"], []).append(notice)
    for notices in per_probe.values():
        assert [n["to_state"] for n in notices] == ["unhealthy", "healthy", "unhealthy"][:steps]
        ids = [int(n["id"].removeprefix("evt_")) for n in notices]
        assert ids == sorted(ids) and len(set(ids)) == steps
        assert [n["occurred_at"] for n in notices] == sorted(n["occurred_at"] for n in notices)


def test_receivers_failing_or_hanging_then_recovering_get_every_notice_once_in_order(
    run: Run[Any], db: Cluster, made: list[uuid.UUID]
) -> None:
    """One answers 500 for 2 minutes, the other hangs 60 s on every request for the first
    minute (attempts time out after 5 s); 2 probes x 3 transitions queue meanwhile."""
    t0 = time.monotonic()
    failing = Receiver(
        script=lambda r: Answer(status=500) if time.monotonic() < t0 + 120 else Answer()
    )
    hanging = Receiver(
        script=lambda r: Answer(hang_s=60) if time.monotonic() < t0 + 60 else Answer()
    )
    healed = {
        "failing": datetime.now(UTC) + timedelta(seconds=120),
        "hanging": datetime.now(UTC) + timedelta(seconds=60),
    }

    async def scenario() -> World:
        w = await world(
            db.url, made, 2, [(failing.url, plain_secret()), (hanging.url, plain_secret())]
        )
        backoff = Backoff(base_s=1, cap_s=15, max_attempts=50)
        async with GuardedOutbound(LOOPBACK, 5) as out:
            sender = Dispatcher(
                pool=db.url, outbound=out, unseal=json.loads, timeout_s=5, backoff=backoff
            )
            stop = asyncio.Event()
            loop = asyncio.create_task(dispatch(sender, address, Loop(poll_s=0.2), stop))
            await record(db.url, w.project, w.probes, 0)
            await record(db.url, w.project, w.probes, 1)
            await asyncio.sleep(30)
            await record(db.url, w.project, w.probes, 2)
            await until(lambda: all_delivered(db.url, w, 12), 180)
            stop.set()
            await loop
        return w

    with serving(failing), serving(hanging):
        w = run(scenario())
    for receiver, channel, name in (
        (failing, w.channels[0], "failing"),
        (hanging, w.channels[1], "hanging"),
    ):
        rows, attempts = run(log(db.url, w, channel))
        accepted = once_each(receiver)
        assert set(accepted) == keys(rows) and len(rows) == 6
        assert all(r.at >= healed[name].timestamp() - 1 for r in accepted.values())
        in_order_per_probe(list(accepted.values()), 3)
        delivered = [a for a in attempts if a.outcome == "delivered"]
        assert len(delivered) == 6 and {a.delivery_id for a in delivered} == {r.id for r in rows}
        failed = [a for a in attempts if a.outcome == "failed"]
        heads = {row.order_key: row.id for row in reversed(rows)}.values()
        per_head = [sum(a.delivery_id == head for a in failed) for head in heads]
        assert len(per_head) == 2 and min(per_head) >= 3, "each probe's first notice was retried"
        if name == "failing":
            assert {(a.status_code, a.error) for a in failed} == {(500, "HTTP 500: ok")}
        else:
            assert {(a.status_code, a.error) for a in failed} == {(None, "no answer within 5 s")}
            assert min(a.latency_ms for a in failed) >= 4900


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_dispatcher_killed_mid_send_loses_nothing_and_repeats_carry_the_same_key(
    run: Run[Any], db: Cluster, made: list[uuid.UUID], tmp_path: Path
) -> None:
    """``callprobe serve`` is SIGKILLed while its requests hang (3 s each), then restarted:
    claims of the dead process expire (timeout 5 s + 15 s margin) and go out again."""
    key = Fernet.generate_key().decode()
    receiver = Receiver(script=lambda r: Answer(hang_s=3))
    port = free_port()
    environ = harness.env(
        db.url, tmp_path, CALLPROBE_SECRET_KEY=key, CALLPROBE_NOTIFY_ALLOW_NETWORKS="127.0.0.0/8",
        CALLPROBE_NOTIFY_TIMEOUT_S="5", CALLPROBE_NOTIFY_POLL_S="0.2",
    )  # fmt: skip
    with serving(receiver):
        settings = Settings(secret_key=SecretStr(key))
        secret = seal(settings, {"signing_secrets": [new_signing_secret()]})
        w = run(world(db.url, made, 10, [(receiver.url, secret)]))
        api = harness.serve(port, environ)
        try:
            run(record(db.url, w.project, w.probes, 0))
            run(record(db.url, w.project, w.probes, 1))
            deadline = time.monotonic() + 20
            while receiver.arrivals < 5 and time.monotonic() < deadline:
                time.sleep(0.05)
            harness.stop(api, signal.SIGKILL)
            in_flight = receiver.arrivals - len(receiver.requests)
            api = harness.serve(port, environ)
            run(until(lambda: all_delivered(db.url, w, 20), 90))
        finally:
            harness.stop(api)
    rows, attempts = run(log(db.url, w, w.channels[0]))
    assert in_flight >= 5, "the process was killed with requests in flight"
    assert any(row.attempts > 1 for row in rows), "a killed attempt was made again"
    taken = receiver.accepted()
    assert {r.headers["webhook-id"] for r in taken} == keys(rows), "nothing lost"
    copies: dict[str, set[tuple[str, str]]] = {}
    for request in taken:
        pair = (request.headers["webhook-id"], request.headers["idempotency-key"])
        copies.setdefault(request.json()["id"], set()).add(pair)
    assert len(copies) == 20 and all(len(pairs) == 1 for pairs in copies.values())
    first_copies = {r.headers["webhook-id"]: r for r in sorted(taken, key=lambda r: -r.at)}
    in_order_per_probe(list(first_copies.values()), 2)
    assert [a.outcome for a in attempts].count("delivered") == 20


def test_a_dead_lettered_notice_is_in_the_log_and_redelivered_once_fixed(
    run: Run[Any], db: Cluster, made: list[uuid.UUID]
) -> None:
    """404 is permanent: dead after one attempt; 500 with two attempts allowed: dead after
    the second. Both are redelivered with their same key once the receivers answer 200."""
    broken = {"gone": 404, "failing": 500}
    gone = Receiver(script=lambda r: Answer(status=broken["gone"]))
    failing = Receiver(script=lambda r: Answer(status=broken["failing"]))

    async def deliver(w: World) -> None:
        async with GuardedOutbound(LOOPBACK, 5) as out:
            backoff = Backoff(base_s=0.2, cap_s=0.5, max_attempts=2)
            sender = Dispatcher(
                pool=db.url, outbound=out, unseal=json.loads, timeout_s=5, backoff=backoff
            )
            stop = asyncio.Event()
            loop = asyncio.create_task(dispatch(sender, address, Loop(poll_s=0.1), stop))
            await until(lambda: settled(w), 30)
            stop.set()
            await loop

    async def settled(w: World) -> bool:
        rows = [row for channel in w.channels for row in (await log(db.url, w, channel))[0]]
        return len(rows) == 2 and all(row.state in ("delivered", "dead") for row in rows)

    with serving(gone), serving(failing):
        w = run(world(db.url, made, 1, [(gone.url, plain_secret()), (failing.url, plain_secret())]))
        run(record(db.url, w.project, w.probes, 0))
        run(deliver(w))
        (dead_gone,), gone_attempts = run(log(db.url, w, w.channels[0]))
        (dead_failing,), failing_attempts = run(log(db.url, w, w.channels[1]))
        assert (dead_gone.state, dead_gone.last_error) == ("dead", "HTTP 404: ok")
        assert [(a.attempt, a.status_code, a.outcome) for a in gone_attempts] == [(1, 404, "dead")]
        assert (dead_failing.state, dead_failing.attempts) == ("dead", 2)
        assert [(a.attempt, a.status_code, a.outcome) for a in failing_attempts] == [
            (1, 500, "failed"),
            (2, 500, "dead"),
        ]
        broken.update(gone=200, failing=200)

        async def redeliver() -> list[bool]:
            async with transaction(db.url) as conn:
                return [
                    await deliveries.redeliver(conn, w.project, d.id)
                    for d in (dead_gone, dead_failing)
                ]

        assert run(redeliver()) == [True, True]
        run(deliver(w))
    for receiver, dead in ((gone, dead_gone), (failing, dead_failing)):
        assert list(once_each(receiver)) == [f"msg_{dead.id.hex}"]
        (row,), attempts = run(log(db.url, w, dead.channel_id))
        assert (row.state, row.attempts, attempts[-1].status_code) == ("delivered", 1, 200)


@dataclass(kw_only=True)
class Counting(Dispatcher):
    """A dispatcher that remembers every delivery it claimed."""

    taken: list[uuid.UUID]

    async def claim(self, now: datetime, limit: int) -> list[Claimed]:
        claimed = await super().claim(now, limit)
        self.taken.extend(one.id for one in claimed)
        return claimed


def test_two_dispatchers_share_200_deliveries_without_sending_one_twice(
    run: Run[Any], db: Cluster, made: list[uuid.UUID]
) -> None:
    receiver = Receiver(script=lambda r: Answer(hang_s=0.02))

    async def scenario(w: World) -> list[list[uuid.UUID]]:
        await record(db.url, w.project, w.probes, 0)
        stop = asyncio.Event()
        async with GuardedOutbound(LOOPBACK, 5) as one, GuardedOutbound(LOOPBACK, 5) as two:
            pair = [
                Counting(pool=db.url, outbound=out, unseal=json.loads, timeout_s=5, taken=[])
                for out in (one, two)
            ]
            loops = [
                asyncio.create_task(dispatch(d, address, Loop(poll_s=0.05, concurrency=8), stop))
                for d in pair
            ]
            await until(lambda: all_delivered(db.url, w, 200), 60)
            stop.set()
            await asyncio.gather(*loops)
        return [d.taken for d in pair]

    with serving(receiver):
        w = run(world(db.url, made, 200, [(receiver.url, plain_secret())]))
        first, second = run(scenario(w))
    rows, attempts = run(log(db.url, w, w.channels[0]))
    assert len(rows) == 200 and all(row.attempts == 1 for row in rows)
    assert len(attempts) == 200 and {a.outcome for a in attempts} == {"delivered"}
    ours = {row.id for row in rows}
    assert not set(first) & set(second), "a delivery was claimed by both"
    assert sorted(d for d in first + second if d in ours) == sorted(ours)
    assert ours & set(first) and ours & set(second), "both dispatchers took a share"
    assert set(once_each(receiver)) == keys(rows)
