"""Results ingested per second through the API, and lease latency with many polling agents.

Starts a throw-away cluster (.var/pg-bench-api) and ``callprobe serve --workers``,
one location and one agent token per polling agent, then:

1. ingest: every agent leases its share of a backlog of due runs (``--probes``
   probes with ``--replicas`` extra targets at every location), and ``--posters``
   clients post their results in batches of ``--batch``; results/s = stored
   results / wall time. Health is judged in the background: the table also says
   how long after the last batch every probe's health had been judged.
2. lease latency in steady state: ``--agents`` agents behave like ``callprobe
   agent`` (lease, post the results, wait ``poll_after_s`` when nothing is due)
   while ``--steady-probes`` probes come due every ``--interval`` seconds at every
   location, for ``--seconds`` after a ``--warmup`` (50 clients connecting and
   their first leases at once: measured here, server-side request times reach
   0.4 s in its first two seconds and stay under 60 ms after). Each lease request
   is timed at the client; the warm-up's p99 is shown apart.

    .venv/bin/python -m bench.api_ingest --agents 50 --probes 50 --replicas 19
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import time
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
from rich.console import Console
from rich.table import Table

from bench import platform_harness as harness
from probes.result import CallResult, Outcome
from store import cluster

PORT = 25441
API_PORT = 18291
BASE = f"http://127.0.0.1:{API_PORT}"
ADMIN = "bench-admin-token-0123456789abcdef"


@dataclass(frozen=True)
class World:
    """The bench project: its key and one (location, agent token) per agent."""

    key: dict[str, str]
    agents: list[tuple[str, str]]


def _world(agents: int) -> World:
    """A project with ``agents`` locations, one agent each."""
    created = httpx.post(
        f"{BASE}/v1/projects", json={"name": "bench"}, headers={"Authorization": f"Bearer {ADMIN}"}
    )
    key = {"Authorization": f"Bearer {created.json()['key']['token']}"}
    tokens = []
    for n in range(agents):
        name = f"loc{n}"
        httpx.post(f"{BASE}/v1/locations", json={"name": name}, headers=key).raise_for_status()
        agent = httpx.post(f"{BASE}/v1/agents", json={"name": name, "location": name}, headers=key)
        tokens.append((name, agent.json()["token"]))
    return World(key=key, agents=tokens)


def _probes(world: World, prefix: str, count: int, replicas: int, interval_s: float) -> None:
    for n in range(count):
        body = {
            "name": f"{prefix}{n}",
            "kind": "tcp",
            "target": "127.0.0.1:9",
            "replicas": [f"127.0.0.{2 + r}:9" for r in range(replicas)],
            "interval_s": interval_s,
            "timeout_s": 5,
            "locations": [name for name, _ in world.agents],
        }
        response = httpx.post(f"{BASE}/v1/probes", json=body, headers=world.key, timeout=30)
        response.raise_for_status()


def _all_due_now(url: str) -> None:
    """The backlog: every schedule due at once (new probes start spread over a minute)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE schedules SET next_due = now()")


def _result(run: dict[str, Any]) -> dict[str, Any]:
    return CallResult(
        run_id=run["run_id"], kind="tcp", target=run["target"], outcome=Outcome.OK, latency_ms=0.4
    ).to_json()


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


async def _lease_all(client: httpx.AsyncClient, location: str, token: str) -> list[Any]:
    leased: list[Any] = []
    while True:
        body = {"location": location, "max_runs": 500}
        response = await client.post("/v1/agent/lease", json=body, headers=_auth(token))
        runs = response.json()["runs"]
        if not runs:
            return leased
        leased += runs


async def _post(
    client: httpx.AsyncClient, batches: list[tuple[str, bytes]], out: list[int]
) -> None:
    while batches:
        token, body = batches.pop()
        response = await client.post("/v1/agent/results", content=body, headers=_auth(token))
        response.raise_for_status()
        out.append(response.json()["accepted"])


async def _ingest(world: World, batch: int, posters: int) -> tuple[int, int, float, float]:
    """Lease the backlog, post it; (posted, stored, wall s, last batch's perf_counter)."""
    async with httpx.AsyncClient(base_url=BASE, timeout=300) as client:
        leased = await asyncio.gather(*(_lease_all(client, *agent) for agent in world.agents))
        batches: list[tuple[str, bytes]] = []
        for (_, token), runs in zip(world.agents, leased, strict=True):
            for start in range(0, len(runs), batch):
                items = [_result(run) for run in runs[start : start + batch]]
                batches.append((token, json.dumps({"results": items}).encode()))
        posted = sum(len(runs) for runs in leased)
        stored: list[int] = []
        started = time.perf_counter()
        await asyncio.gather(*(_post(client, batches, stored) for _ in range(posters)))
        done = time.perf_counter()
    return posted, sum(stored), done - started, done


def _judged_after(url: str, since: float, timeout: float = 300.0) -> float:
    """Seconds from ``since`` (perf_counter) until every probe was judged after its
    newest run completed."""
    query = """
        SELECT count(*) FROM probes p
        LEFT JOIN probe_health h ON h.probe_id = p.id AND h.location = ''
        WHERE h.evaluated_at IS NULL
           OR h.evaluated_at < (SELECT max(completed_at) FROM runs WHERE probe_id = p.id)
    """
    with psycopg.connect(url, autocommit=True) as conn:
        while time.perf_counter() - since < timeout:
            row = conn.execute(query).fetchone()
            if row is not None and row[0] == 0:
                return time.perf_counter() - since
            time.sleep(0.05)
    raise RuntimeError("health was not judged within the timeout")


@dataclass
class Latencies:
    """Lease request times (s) during the warm-up and after it."""

    warmup: list[float]
    steady: list[float]


async def _agent(
    location: str, token: str, steady_from: float, until: float, seen: Latencies
) -> None:
    """What ``callprobe agent`` does, minus running the checks."""
    async with httpx.AsyncClient(base_url=BASE, timeout=30) as client:
        while time.monotonic() < until:
            started = time.perf_counter()
            warming = time.monotonic() < steady_from
            body = {"location": location, "max_runs": 64}
            response = await client.post("/v1/agent/lease", json=body, headers=_auth(token))
            (seen.warmup if warming else seen.steady).append(time.perf_counter() - started)
            lease = response.json()
            if lease["runs"]:
                items = [_result(run) for run in lease["runs"]]
                posted = await client.post(
                    "/v1/agent/results", json={"results": items}, headers=_auth(token)
                )
                posted.raise_for_status()
            else:
                await asyncio.sleep(lease["poll_after_s"])


async def _steady(world: World, warmup: float, seconds: float) -> tuple[Latencies, float]:
    """Sorted lease latencies, and the CPU share this client process used meanwhile."""
    seen = Latencies(warmup=[], steady=[])
    steady_from = time.monotonic() + warmup
    until = steady_from + seconds
    before = resource.getrusage(resource.RUSAGE_SELF)
    await asyncio.gather(*(_agent(loc, tok, steady_from, until, seen) for loc, tok in world.agents))
    after = resource.getrusage(resource.RUSAGE_SELF)
    used = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return Latencies(warmup=sorted(seen.warmup), steady=sorted(seen.steady)), used / (
        warmup + seconds
    )


def _ms(values: list[float], q: float) -> str:
    return f"{values[int(q * (len(values) - 1))] * 1000:.1f}"


def main(args: argparse.Namespace) -> Table:
    """Run the benchmark on a fresh cluster and return its table."""
    root, url = harness.fresh_cluster("pg-bench-api", PORT)
    environ = {
        **os.environ,
        "CALLPROBE_DATABASE_URL": url,
        "CALLPROBE_ADMIN_TOKEN": ADMIN,
        "CALLPROBE_SWEEP_INTERVAL_S": "3600",
    }
    api = harness.serve(API_PORT, environ, "--workers", str(args.workers))
    try:
        world = _world(args.agents)
        _probes(world, "backlog", args.probes, args.replicas, 86400)
        _all_due_now(url)
        posted, stored, wall, done = asyncio.run(_ingest(world, args.batch, args.posters))
        judged = _judged_after(url, done)
        _probes(world, "steady", args.steady_probes, 0, args.interval)
        latencies, client_cpu = asyncio.run(_steady(world, args.warmup, args.seconds))
    finally:
        harness.stop(api)
        cluster.stop(root)
    table = Table(title=f"API on {args.workers} worker process(es): ingest and lease latency")
    columns = (
        *("results posted", "stored", "batch", "posters", "results/s", "health judged after"),
        *("agents", "runs due/s", "warm-up p99 ms", "lease requests", "lease p50 ms"),
        "lease p99 ms",
        "bench client CPU",
    )
    for column in columns:
        table.add_column(column, justify="right")
    table.add_row(
        str(posted),
        str(stored),
        str(args.batch),
        str(args.posters),
        f"{stored / wall:,.0f}",
        f"{judged:.1f} s",
        str(len(world.agents)),
        f"{args.steady_probes * len(world.agents) / args.interval:.0f}",
        _ms(latencies.warmup, 0.99),
        str(len(latencies.steady)),
        f"{statistics.median(latencies.steady) * 1000:.1f}",
        _ms(latencies.steady, 0.99),
        f"{client_cpu:.0%}",
    )
    return table


def parser() -> argparse.ArgumentParser:
    """Command-line options (defaults: the issue's 50 polling agents)."""
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--agents", type=int, default=50)
    options.add_argument("--probes", type=int, default=50)
    options.add_argument("--replicas", type=int, default=19)
    options.add_argument("--batch", type=int, default=500)
    options.add_argument("--posters", type=int, default=8)
    options.add_argument("--workers", type=int, default=2)
    options.add_argument("--steady-probes", type=int, default=50)
    options.add_argument("--interval", type=float, default=60.0)
    options.add_argument("--warmup", type=float, default=5.0)
    options.add_argument("--seconds", type=float, default=30.0)
    return options


if __name__ == "__main__":
    Console(width=200).print(main(parser().parse_args()))
