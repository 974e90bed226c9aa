"""The shared judging queue on a real TimescaleDB: marks judged once across replicas,
none lost to a failed judgement, a sweep that touches only what went silent, and the
incremental judgement equal to a full one.

A cluster of its own (port 25470): the session's test cluster is shared with other
API processes whose judging loops would claim these marks too.
"""

from __future__ import annotations

import asyncio
import time
import uuid
import zlib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from api.services.ingest import store_results
from api.services.judging_queue import JudgingLoop
from api.services.sweeper import sweep_once
from api.settings import Settings
from probes.result import CallResult, Outcome
from store import cluster, health, pool
from store.errors import DatabaseUnavailable
from store.pool import Pool, transaction
from tests.conftest import Cluster, start_migrated

pytestmark = pytest.mark.db

PORT = 25470
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


@pytest.fixture(scope="module")
def own_db() -> Iterator[Cluster]:
    root = cluster.default_root("pg-judging")
    url = start_migrated(root, PORT)
    yield Cluster(root=root, port=PORT, url=url)
    cluster.stop(root)


async def _world(url: str, probes: int, places: Sequence[str], **probe: Any) -> dict[str, Any]:
    """A project with ``probes`` TCP probes at ``places``, judged on latency (100/500 ms),
    every mark their creation left judged."""
    policy = probe.get("policy", "{}")
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        row = await (
            await conn.execute("INSERT INTO projects (name) VALUES ('t') RETURNING id")
        ).fetchone()
        assert row is not None
        project = row[0]
        ids = []
        for n in range(probes):
            made = await conn.execute(
                "INSERT INTO probes (project_id, name, kind, target, interval_s, timeout_s, policy)"
                " VALUES (%s, %s, 'tcp', 'h:1', 60, 5, %s) RETURNING id",
                (project, f"p{n}", policy),
            )
            ids.append((await made.fetchone())[0])  # type: ignore[index]
        for place in places:
            await conn.execute(
                "WITH l AS (INSERT INTO locations (project_id, name) VALUES (%s, %s)"
                " RETURNING id) INSERT INTO probe_locations (probe_id, location_id)"
                " SELECT unnest(%s::uuid[]), id FROM l",
                (project, place, ids),
            )
        await conn.execute(
            "INSERT INTO thresholds (project_id, probe_id, metric, warning, critical)"
            " SELECT %s, unnest(%s::uuid[]), 'latency_ms', 100, 500",
            (project, ids),
        )
    source = pool.create_pool(url)
    await source.open()
    try:
        await JudgingLoop(source).drain(T0)
    finally:
        await source.close()
    return {"project": project, "probes": ids}


def _result(probe: uuid.UUID, place: str, at: datetime, latency: float = 5.0) -> CallResult:
    outcome = Outcome.OK if latency < 1000 else Outcome.FAILED
    return CallResult(
        run_id=uuid.uuid4(), kind="tcp", probe="p", probe_id=probe, target="h:1",
        location=place, started_at=at, outcome=outcome, latency_ms=latency,
    )  # fmt: skip


async def _store(url: str, world: dict[str, Any], results: list[CallResult]) -> None:
    async with transaction(url) as conn:
        await store_results(conn, results, world["project"])


async def _states(url: str, probe_ids: Sequence[uuid.UUID]) -> dict[tuple[Any, str], Any]:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        rows = await health.health_rows(conn, list(probe_ids))
    return {(r.probe_id, r.location): r for r in rows}


async def _pools(url: str, count: int, **kwargs: Any) -> list[Pool]:
    pools = [pool.create_pool(url, **kwargs) for _ in range(count)]
    for each in pools:
        await each.open()
    return pools


def test_two_replicas_judge_every_mark_exactly_once(own_db: Cluster, run: Any) -> None:
    world = run(_world(own_db.url, 50, ["ams", "fra"]))
    probes = world["probes"]
    # 500 results: 5 for each of 100 (probe, location) pairs, in one ingest transaction.
    batch = [
        _result(p, place, T0 + timedelta(seconds=k), latency=20.0 + k)
        for p in probes
        for place in ("ams", "fra")
        for k in range(5)
    ]
    run(_store(own_db.url, world, batch))

    async def two_replicas() -> list[list[Any]]:
        pools = await _pools(own_db.url, 2)
        try:
            loops = [JudgingLoop(each, claim_limit=7) for each in pools]
            at = T0 + timedelta(seconds=5)
            return list(await asyncio.gather(*(loop.drain(at) for loop in loops)))
        finally:
            for each in pools:
                await each.close()

    judged = run(two_replicas())
    pairs = [(c.probe_id, c.location) for claims in judged for c in claims]
    assert len(pairs) == 100  # 500 results, 100 evaluations: one per pair
    assert set(pairs) == {(p, place) for p in probes for place in ("ams", "fra")}
    assert all(judged), "both replicas took a share"
    states = run(_states(own_db.url, probes))
    assert {states[p, ""].state for p in probes} == {"healthy"}


def test_a_failed_judgement_hands_its_marks_back(own_db: Cluster, run: Any) -> None:
    world = run(_world(own_db.url, 3, ["ams"]))
    probes = world["probes"]
    run(_store(own_db.url, world, [_result(p, "ams", T0, latency=250.0) for p in probes]))

    async def fail_then_judge() -> list[Any]:
        (short, other) = await _pools(own_db.url, 2, statement_timeout_ms=300)
        try:
            # Another transaction holds the probe's row: this judgement times out
            # reading the probe (which it keeps from deletion) and rolls back.
            connecting = psycopg.AsyncConnection.connect(own_db.url)
            async with await connecting as holder, holder.transaction():
                lock = "SELECT FROM probes WHERE id = %s FOR UPDATE"
                await holder.execute(lock, (probes[1],))
                with pytest.raises(DatabaseUnavailable):
                    await JudgingLoop(short).pass_once(T0)
            return await JudgingLoop(other).drain(T0)
        finally:
            await short.close()
            await other.close()

    judged = run(fail_then_judge())
    assert sorted(c.probe_id for c in judged if c.probe_id in probes) == sorted(probes)
    states = run(_states(own_db.url, probes))
    assert {states[p, ""].state for p in probes} == {"degraded"}


def test_a_probe_deleted_while_it_is_judged_is_dropped_not_an_error(
    own_db: Cluster, run: Any
) -> None:
    world = run(_world(own_db.url, 2, ["ams"]))
    probes = world["probes"]
    run(_store(own_db.url, world, [_result(p, "ams", T0, latency=250.0) for p in probes]))

    async def judge_during_a_delete() -> list[Any]:
        (source,) = await _pools(own_db.url, 1)
        try:
            async with await psycopg.AsyncConnection.connect(own_db.url) as deleter:
                await deleter.execute("DELETE FROM probes WHERE id = %s", (probes[0],))
                judging = asyncio.create_task(JudgingLoop(source).pass_once(T0))
                await asyncio.sleep(0.5)  # the pass waits for the delete's row lock
                await deleter.commit()
                return await judging
        finally:
            await source.close()

    # Before the pass kept its probes from deletion, it wrote health for the deleted
    # probe once the delete committed, and failed on the foreign key.
    judged = run(judge_during_a_delete())
    assert probes[1] in [c.probe_id for c in judged]
    states = run(_states(own_db.url, probes))
    assert set(states) == {(probes[1], ""), (probes[1], "ams")}
    assert states[probes[1], ""].state == "degraded"


def test_a_probe_that_cannot_be_judged_stops_neither_the_others_nor_the_loop(
    own_db: Cluster, run: Any, caplog: pytest.LogCaptureFixture
) -> None:
    world = run(_world(own_db.url, 3, ["ams"]))
    probes = world["probes"]
    poisoned = probes[1]

    async def poison_and_judge() -> tuple[list[Any], int]:
        async with await psycopg.AsyncConnection.connect(own_db.url, autocommit=True) as conn:
            # A policy key this version does not know (as an older one might have stored).
            sql = "UPDATE probes SET policy = '{\"retired_knob\": 1}' WHERE id = %s"
            await conn.execute(sql, (poisoned,))
            await _store(own_db.url, world, [_result(p, "ams", T0, latency=250.0) for p in probes])
            (source,) = await _pools(own_db.url, 1)
            try:
                judged = await JudgingLoop(source).drain(T0)
            finally:
                await source.close()
            sql = "SELECT count(*) FROM judging_queue WHERE probe_id = %s"
            left = await (await conn.execute(sql, (poisoned,))).fetchone()
            return judged, left[0]  # type: ignore[index]

    judged, left = run(poison_and_judge())
    assert sorted(c.probe_id for c in judged if c.probe_id in probes) == sorted(
        [probes[0], probes[2]]
    )
    assert left == 0, "the poisoned probe's marks are dropped, not retried every pass"
    states = run(_states(own_db.url, probes))
    assert states[probes[0], ""].state == states[probes[2], ""].state == "degraded"
    failed = [r for r in caplog.records if r.getMessage() == "judging failed, marks dropped"]
    assert [r.probe_id for r in failed] == [str(poisoned)]  # type: ignore[attr-defined]
    assert failed[0].exc_info is not None and "retired_knob" in str(failed[0].exc_info[1])


def test_a_probe_judged_elsewhere_is_handed_back_not_waited_for(own_db: Cluster, run: Any) -> None:
    world = run(_world(own_db.url, 3, ["ams"]))
    probes = world["probes"]
    run(_store(own_db.url, world, [_result(p, "ams", T0, latency=250.0) for p in probes]))

    async def judge_around_a_busy_probe() -> tuple[list[Any], float, list[Any]]:
        (source,) = await _pools(own_db.url, 1)
        try:
            async with await psycopg.AsyncConnection.connect(own_db.url) as holder:
                # Another replica is judging probes[1] (it holds the probe's lock).
                key = zlib.crc32(probes[1].bytes)
                await holder.execute("SELECT pg_advisory_lock(%s)", (key,))
                started = time.perf_counter()
                first = await JudgingLoop(source).pass_once(T0)
                took = time.perf_counter() - started
                await holder.execute("SELECT pg_advisory_unlock(%s)", (key,))
            return first, took, await JudgingLoop(source).drain(T0)
        finally:
            await source.close()

    first, took, after = run(judge_around_a_busy_probe())
    assert sorted(c.probe_id for c in first if c.probe_id in probes) == sorted(
        [probes[0], probes[2]]
    )
    assert took < 5, "the busy probe was not waited for"
    assert [c.probe_id for c in after if c.probe_id in probes] == [probes[1]]
    states = run(_states(own_db.url, probes))
    assert {states[p, ""].state for p in probes} == {"degraded"}


def test_the_sweep_judges_only_the_pairs_that_went_silent(own_db: Cluster, run: Any) -> None:
    world = run(_world(own_db.url, 20, ["ams"]))
    probes = world["probes"]
    start = T0 - timedelta(days=1)  # before the other tests' deadlines: the sweep is global
    stale_s = 3 * 60 + 60  # the default: three intervals and a minute
    later = start + timedelta(seconds=stale_s + 1)

    async def scenario() -> tuple[int, int, int, int]:
        (source,) = await _pools(own_db.url, 1)
        loop = JudgingLoop(source)
        try:
            await _store(own_db.url, world, [_result(p, "ams", start) for p in probes])
            await loop.drain(start)
            # 17 probes report again; 3 went silent.
            await _store(own_db.url, world, [_result(p, "ams", later) for p in probes[3:]])
            reported = len(await loop.drain(later))
            marked = await sweep_once(source, later)
            swept = len(await loop.drain(later))
            again = await sweep_once(source, later + timedelta(seconds=30))
            return reported, marked, swept, again
        finally:
            await source.close()

    assert run(scenario()) == (17, 3, 3, 0)
    states = run(_states(own_db.url, probes))
    assert [states[p, ""].state for p in probes] == ["unknown"] * 3 + ["healthy"] * 17


def test_a_config_edit_rejudges_the_probe(own_db: Cluster, run: Any) -> None:
    world = run(_world(own_db.url, 1, ["ams"]))
    (probe,) = world["probes"]
    run(_store(own_db.url, world, [_result(probe, "ams", T0, latency=250.0)]))

    async def edit_and_judge(sql: str) -> list[Any]:
        async with await psycopg.AsyncConnection.connect(own_db.url, autocommit=True) as conn:
            await conn.execute(sql, (probe,))
        (source,) = await _pools(own_db.url, 1)
        try:
            return await JudgingLoop(source).drain(T0)
        finally:
            await source.close()

    run(edit_and_judge("SELECT %s"))
    assert run(_states(own_db.url, [probe]))[probe, ""].state == "degraded"
    edit = "UPDATE thresholds SET warning = 300, critical = 600 WHERE probe_id = %s"
    judged = run(edit_and_judge(edit))
    assert [(c.probe_id, c.location) for c in judged] == [(probe, "")]
    assert run(_states(own_db.url, [probe]))[probe, ""].state == "healthy"


def test_judging_the_reported_locations_equals_judging_them_all(own_db: Cluster, run: Any) -> None:
    policy = '{"quorum": 2, "failures_to_unhealthy": 2, "successes_to_recover": 2}'
    places = ["ams", "fra", "nyc", "sin"]
    world = run(_world(own_db.url, 6, places, policy=policy))
    probes = world["probes"]
    # Rounds of results at a changing subset of locations, each judged incrementally;
    # after each, a whole-probe judgement of a twin copy must agree on every state.
    rounds = [
        (0, places, [20, 20, 20, 20]),
        (60, ["ams", "fra"], [2000, 250, 20, 20]),
        (120, ["ams", "nyc"], [2000, 20, 700, 20]),
        (180, ["fra", "sin"], [20, 2000, 20, 2000]),
        (600, ["sin"], [20, 20, 20, 20]),
    ]

    async def play() -> list[tuple[dict[Any, Any], dict[Any, Any]]]:
        (source,) = await _pools(own_db.url, 1)
        loop = JudgingLoop(source)
        seen = []
        try:
            for offset, where, latencies in rounds:
                at = T0 + timedelta(seconds=offset)
                by_place = dict(zip(places, latencies, strict=True))
                batch = [
                    _result(p, place, at + timedelta(seconds=n), by_place[place] + n)
                    for n, p in enumerate(probes)
                    for place in where
                ]
                await _store(own_db.url, world, batch)
                await loop.drain(at + timedelta(seconds=30))
                incremental = await _states(own_db.url, probes)
                async with transaction(source) as conn:
                    await conn.execute(
                        "INSERT INTO judging_queue (probe_id, location)"
                        " SELECT unnest(%s::uuid[]), ''",
                        (probes,),
                    )
                await loop.drain(at + timedelta(seconds=30))
                seen.append((incremental, await _states(own_db.url, probes)))
        finally:
            await source.close()
        return seen

    for incremental, full in run(play()):
        assert _view(incremental) == _view(full)
    final = run(_states(own_db.url, probes))
    assert {final[p, "sin"].state for p in probes} == {"healthy"}


def _view(states: dict[Any, Any]) -> dict[Any, Any]:
    return {key: (row.state, row.since, row.reasons) for key, row in states.items()}


def test_through_the_app_a_push_is_judged_an_edit_rejudged_silence_swept(
    own_db: Cluster, tmp_path: Path
) -> None:
    admin = "admin-" + uuid.uuid4().hex
    settings = Settings(
        database_url=own_db.url,
        admin_token=SecretStr(admin),
        data_dir=tmp_path,
        sweep_interval_s=1,
        notify_dispatch=False,
    )
    with TestClient(create_app(settings)) as client:
        made = client.post(
            "/v1/projects", json={"name": "judging"}, headers={"Authorization": f"Bearer {admin}"}
        ).json()
        headers = {"Authorization": f"Bearer {made['key']['token']}"}
        body = {"name": "app", "kind": "push", "target": "", "options": {"dead_after_s": 5}}
        probe = client.post("/v1/probes", json=body, headers=headers).json()
        pushed = time.monotonic()
        assert client.post(f"/v1/push/{probe['push_token']}", json={"cpu": 0.7}).status_code == 202

        def reached(state: str, within: float) -> float:
            deadline = time.monotonic() + within
            while time.monotonic() < deadline:
                found = client.get(f"/v1/probes/{probe['id']}/transitions", headers=headers)
                if state in [t["to_state"] for t in found.json()]:
                    return time.monotonic()
                time.sleep(0.05)
            raise AssertionError(f"no transition to {state} within {within} s")

        assert reached("healthy", 3) - pushed < 3
        rule = {"metric": "load_cpu", "warning": 0.5}
        added = client.post(f"/v1/probes/{probe['id']}/thresholds", json=rule, headers=headers)
        assert added.status_code == 201, added.text
        reached("degraded", 3)
        # Dead after 5 s of silence, seen within the sweep interval (1 s) and a pass.
        assert reached("unhealthy", 10) - pushed < 5 + 1 + 1.5
