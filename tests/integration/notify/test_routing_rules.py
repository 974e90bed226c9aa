"""Routing rules over the real database: transitions written by ``record_transition`` at
synthetic times, routing passes at chosen clock times, deliveries counted per channel.

Each test runs in one rolled-back transaction and calls the routing pass itself
(:func:`notify.router.route`); the last test commits and races real ``route_once``
calls for the router lock.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from notify.router import route_once
from tests.conftest import Cluster, Run
from tests.integration.notify.world import World, address

pytestmark = pytest.mark.db

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
FLAP = 20
"""Seconds between the changes of the flapping probe."""


def at(minutes: float = 0, seconds: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, seconds=seconds)


async def healthy_probe(world: World, project: uuid.UUID, **kw: Any) -> uuid.UUID:
    """A probe that turned healthy two hours before T0 (news to nobody)."""
    probe = await world.probe(project, kw.pop("name", "SIP trunk A"), **kw)
    await world.go(probe, "healthy", at(-120))
    await world.route(at(-120))
    return probe


def occurred(payload: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(payload["occurred_at"])


def keys(rows: list[dict[str, Any]]) -> list[str]:
    return [row["payload"]["incident"]["dedup_key"] for row in rows]


async def flap(world: World, probe: uuid.UUID, minutes: int) -> datetime:
    """Unhealthy/healthy every 20 s for ``minutes``, routed as it happens, then the clock
    every 20 s for 20 minutes more; when the last change was."""
    changes = minutes * 60 // FLAP
    for k in range(changes):
        when = at(seconds=k * FLAP)
        await world.go(probe, "unhealthy" if k % 2 == 0 else "healthy", when)
        await world.route(when)
    for k in range(changes, changes + 20 * 60 // FLAP):
        await world.route(at(seconds=k * FLAP))
    return at(seconds=(changes - 1) * FLAP)


@pytest.mark.parametrize(("minutes", "settles_in"), [(5, "unhealthy"), (30, "healthy")])
def test_a_flap_of_any_length_is_five_notices_on_one_alert(
    run: Run[Any], conn: psycopg.AsyncConnection[Any], minutes: int, settles_in: str
) -> None:
    async def scenario(world: World) -> None:
        project = await world.project()
        probe = await healthy_probe(world, project)
        channel = await world.channel(project)
        last = await flap(world, probe, minutes)
        rows = await world.deliveries(channel)
        told = [(r["kind"], r["payload"]["to_state"], occurred(r["payload"])) for r in rows]
        assert told == [
            ("probe.health_changed", "unhealthy", at()),
            ("probe.health_changed", "healthy", at(seconds=20)),
            ("probe.health_changed", "unhealthy", at(seconds=40)),
            ("probe.flapping", "healthy", at(seconds=60)),
            ("probe.settled", settles_in, last + timedelta(minutes=10)),
        ]
        assert rows[3]["payload"]["flapping"] == {"changes": 4, "window_minutes": 10.0}
        first, recovery, opened, flapping, settled = keys(rows)
        assert first == recovery != opened
        assert opened == flapping == settled

    run(scenario(World(conn)))


@pytest.mark.parametrize("scope", ["probe", "project", "page"])
def test_nothing_is_told_in_maintenance_and_changes_after_it_are(
    run: Run[Any], conn: psycopg.AsyncConnection[Any], scope: str
) -> None:
    async def scenario(world: World) -> None:
        project = await world.project()
        probe = await healthy_probe(world, project)
        page = await world.page(project, {"Trunk A": probe})
        channel = await world.channel(project)
        crisp = await world.channel(project, crisp=True)
        target = {"probe": {"probe": probe}, "project": {}, "page": {"page": page}}[scope]
        await world.window(project, at(0), at(60), **target)
        # inside the window: down, up, down again (15 min apart: no flap)
        for minute, state in [(5, "unhealthy"), (20, "healthy"), (35, "unhealthy")]:
            await world.go(probe, state, at(minute))
            await world.route(at(minute))
        # when it ends the probe is still down: that is told then; the changes after
        # it are told as they come
        await world.route(at(61))
        for minute, state in [(75, "healthy"), (90, "unhealthy"), (105, "healthy")]:
            await world.go(probe, state, at(minute))
            await world.route(at(minute))
        rows = await world.deliveries(channel)
        assert [(r["payload"]["to_state"], occurred(r["payload"])) for r in rows] == [
            ("unhealthy", at(61)),
            ("healthy", at(75)),
            ("unhealthy", at(90)),
            ("healthy", at(105)),
        ]
        pages = await world.deliveries(crisp)
        assert [(r["payload"]["data"]["health"], r["payload"]["timestamp"]) for r in pages] == [
            ("dead", int(at(61).timestamp() * 1000)),
            ("healthy", int(at(75).timestamp() * 1000)),
            ("dead", int(at(90).timestamp() * 1000)),
            ("healthy", int(at(105).timestamp() * 1000)),
        ]

    run(scenario(World(conn)))


def test_on_filters_degraded_unknown_and_recoveries(
    run: Run[Any], conn: psycopg.AsyncConnection[Any]
) -> None:
    async def scenario(world: World) -> None:
        project = await world.project()
        probe = await healthy_probe(world, project)
        default = await world.channel(project)
        down_only = await world.channel(project, {"on": ["unhealthy", "recovered"]})
        unknown = await world.channel(project, {"on": ["unhealthy", "unknown", "recovered"]})
        states = ["degraded", "healthy", "unhealthy", "unknown", "healthy", "unknown", "healthy"]
        for k, state in enumerate(states):
            await world.go(probe, state, at(15 * k))
            await world.route(at(15 * k))

        async def told(channel: uuid.UUID) -> list[str]:
            return [row["payload"]["to_state"] for row in await world.deliveries(channel)]

        assert await told(default) == ["degraded", "healthy", "unhealthy", "healthy"]
        assert await told(down_only) == ["unhealthy", "healthy"]
        assert await told(unknown) == ["unhealthy", "unknown", "healthy", "unknown"]
        # the unknown between keeps the alert: the recovery closes the one that opened
        assert len(set(keys((await world.deliveries(unknown))[:3]))) == 1

    run(scenario(World(conn)))


def test_channels_get_the_probes_their_rules_name_and_only_of_their_project(
    run: Run[Any], conn: psycopg.AsyncConnection[Any]
) -> None:
    async def scenario(world: World) -> None:
        project, other = await world.project(), await world.project()
        trunk = await healthy_probe(world, project, name="trunk", tags=["trunk", "ams"])
        pbx = await healthy_probe(world, project, name="pbx", tags=["pbx"])
        shown = await healthy_probe(world, project, name="ivr")
        loose = await healthy_probe(world, project, name="lab")
        page = await world.page(project, {"IVR": shown})
        channels = {
            "all": await world.channel(project),
            "probe": await world.channel(project, {"probes": [str(trunk)]}),
            "tag": await world.channel(project, {"tags": ["pbx"]}),
            "page": await world.channel(project, {"pages": [str(page)]}),
            "either": await world.channel(project, {"probes": [str(pbx)], "tags": ["ams"]}),
            "paused": await world.channel(project, paused=True),
            "other": await world.channel(other),
        }
        for probe in (trunk, pbx, shown, loose):
            await world.go(probe, "unhealthy", at(0))
            await world.go(probe, "healthy", at(30))
        await world.route(at(30))
        told = {
            name: [(r["payload"]["probe"]["id"], r["state"]) for r in await world.deliveries(c)]
            for name, c in channels.items()
        }
        every = [str(p) for p in (trunk, pbx, shown, loose)]
        assert sorted(p for p, _ in told["all"]) == sorted(every * 2)
        assert told["probe"] == [(str(trunk), "pending")] * 2
        assert told["tag"] == [(str(pbx), "pending")] * 2
        assert told["page"] == [(str(shown), "pending")] * 2
        assert sorted(p for p, _ in told["either"]) == sorted([str(trunk), str(pbx)] * 2)
        assert told["paused"] == told["all"]
        assert told["other"] == []

    run(scenario(World(conn)))


@pytest.mark.parametrize(("recovers", "reminded"), [(None, [30, 90, 210]), (60, [30])])
def test_reminders_back_off_to_their_maximum_and_stop_at_recovery(
    run: Run[Any], conn: psycopg.AsyncConnection[Any], recovers: int | None, reminded: list[int]
) -> None:
    async def scenario(world: World) -> None:
        project = await world.project()
        probe = await healthy_probe(world, project)
        rules = {"reminders": {"every_minutes": 30, "backoff": 2, "max": 3}}
        channel = await world.channel(project, rules)
        await world.go(probe, "unhealthy", at(0))
        for minute in range(0, 5 * 60 + 1):
            if minute == recovers:
                await world.go(probe, "healthy", at(minute))
            await world.route(at(minute))
        rows = await world.deliveries(channel)
        reminders = [r["payload"] for r in rows if r["kind"] == "probe.reminder"]
        assert [occurred(r) for r in reminders] == [at(m) for m in reminded]
        assert [r["reminder"] for r in reminders] == [
            {"number": n, "open_for_s": m * 60.0} for n, m in enumerate(reminded, 1)
        ]
        assert len(set(keys(rows))) == 1
        assert len(rows) == len(reminded) + (1 if recovers is None else 2)

    run(scenario(World(conn)))


def test_crisp_channels_get_page_health_changes_and_no_probe_notices(
    run: Run[Any], conn: psycopg.AsyncConnection[Any]
) -> None:
    async def scenario(world: World) -> None:
        project = await world.project()
        trunk = await healthy_probe(world, project, name="trunk")
        pbx = await healthy_probe(world, project, name="pbx")
        page = await world.page(project, {"SIP trunk": trunk, "Hosted PBX": pbx})
        crisp = await world.channel(project, crisp=True)
        plain = await world.channel(project)
        steps = [
            (0, trunk, "degraded", ["ams"]),
            (15, pbx, "unhealthy", []),
            (30, trunk, "healthy", []),
            (45, pbx, "healthy", []),
        ]
        for minute, probe, state, bad_at in steps:
            await world.go(probe, state, at(minute), bad_at=bad_at)
            await world.route(at(minute))
        slug = await world.slug(page)
        events = [row["payload"] for row in await world.deliveries(crisp)]
        assert events == [
            {
                "website_id": slug,
                "event": "status:health:changed",
                "data": {"website_id": slug, "health": health, "nodes": nodes},
                "timestamp": int(at(minute).timestamp() * 1000),
            }
            for minute, health, nodes in [
                (0, "sick", [{"label": "SIP trunk", "replica": "ams"}]),
                (15, "dead", [{"label": "SIP trunk", "replica": "ams"},
                              {"label": "Hosted PBX", "replica": "all"}]),
                (45, "healthy", []),
            ]
        ]  # fmt: skip
        assert {row["order_key"] for row in await world.deliveries(crisp)} == {f"page:{page}"}
        assert await world.kinds(plain) == ["probe.health_changed"] * 4

    run(scenario(World(conn)))


def test_one_pass_queues_each_probe_s_notices_in_transition_order(
    run: Run[Any], conn: psycopg.AsyncConnection[Any]
) -> None:
    async def scenario(world: World) -> None:
        project = await world.project()
        probes = [await healthy_probe(world, project, name=n) for n in ("a", "b", "c")]
        channel = await world.channel(project, {"flap": None})
        for k in range(20):
            for probe in probes:
                await world.go(probe, "unhealthy" if k % 2 == 0 else "healthy", at(k))
        await world.route(at(20))
        rows = await world.deliveries(channel)
        assert len(rows) == 60
        for probe in probes:
            mine = [r for r in rows if r["order_key"] == str(probe)]
            assert [occurred(r["payload"]) for r in mine] == [at(k) for k in range(20)]
            assert [r["event_id"] for r in mine] == sorted(r["event_id"] for r in mine)

    run(scenario(World(conn)))


def test_racing_routers_route_each_event_once(db: Cluster, run: Run[Any]) -> None:
    """Committed: real ``route_once`` calls on their own connections, at the real time."""

    async def scenario() -> None:
        now = datetime.now(UTC)
        async with await psycopg.AsyncConnection.connect(db.url, autocommit=True) as conn:
            world = World(conn)
            project = await world.project()
            try:
                await race(world, project, now, db.url)
            finally:
                await conn.execute("DELETE FROM projects WHERE id = %s", (project,))

    run(scenario())


async def race(world: World, project: uuid.UUID, now: datetime, url: str) -> None:
    channels = [await world.channel(project, {"flap": None}) for _ in range(2)]
    probes = [await world.probe(project, f"trunk {n}") for n in range(5)]
    for k in range(4):
        for probe in probes:
            await world.go(probe, "unhealthy" if k % 2 == 0 else "healthy", now + k * SECOND)
    made = await event_ids(world, project)
    async with await psycopg.AsyncConnection.connect(url) as holder:
        await holder.execute("SELECT pg_advisory_xact_lock(%s)", (0x6E6F74696679,))
        assert await route_once(url, address, now) == 0
        await holder.rollback()
    await asyncio.gather(*(route_once(url, address, now) for _ in range(4)))
    for _ in range(50):  # another test's router may hold the lock for a moment
        if not await unrouted(world, project):
            break
        await route_once(url, address, now)
        await asyncio.sleep(0.1)
    # A server another test left running may judge these probes too (stale: unknown) and
    # add events of its own; each event made here must be routed exactly once per channel.
    for channel in channels:
        delivered = sorted(r["event_id"] for r in await world.deliveries(channel))
        assert len(delivered) == len(set(delivered))
        assert [e for e in delivered if e in made] == made


SECOND = timedelta(seconds=1)


async def unrouted(world: World, project: uuid.UUID) -> int:
    sql = "SELECT count(*) FROM notify_events WHERE project_id = %s AND routed_at IS NULL"
    row = await (await world.conn.execute(sql, (project,))).fetchone()
    return int(row[0]) if row else 0


async def event_ids(world: World, project: uuid.UUID) -> list[int]:
    """The events ``World.go`` made (its cause says "now <state>"): a server another test
    left running may judge the same probes ``unknown`` and add its own."""
    sql = "SELECT id FROM notify_events WHERE project_id = %s AND cause LIKE 'now %%' ORDER BY id"
    return [int(r[0]) for r in await (await world.conn.execute(sql, (project,))).fetchall()]
