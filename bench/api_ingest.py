"""Results ingested per second through the API, and lease latency with many polling agents.

Starts a throw-away cluster (.var/pg-bench-api) and one `callprobe serve`, creates
probes whose schedules are all due, then:

1. lease latency: ``--agents`` agents (one location each) poll ``/v1/agent/lease``
   in a loop, each request timed at the client, for ``--seconds``;
2. ingest: the leased runs' results are posted in batches of ``--batch`` by
   ``--posters`` concurrent clients; results/s = stored results / wall time
   (each batch is stored, rolled up and its probes' health judged before the answer).

    .venv/bin/python -m bench.api_ingest --agents 50 --probes 100 --replicas 20
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from probes.result import CallResult, Outcome
from store import cluster, migrate, pool

PORT = 55441
API_PORT = 18291
ADMIN = "bench-admin-token-0123456789abcdef"


def _start_api(url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CALLPROBE_DATABASE_URL": url,
        "CALLPROBE_ADMIN_TOKEN": ADMIN,
        "CALLPROBE_SWEEP_INTERVAL_S": "3600",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "api", "serve", "--port", str(API_PORT)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    for _ in range(150):
        try:
            httpx.get(f"http://127.0.0.1:{API_PORT}/openapi.json", timeout=1).raise_for_status()
            return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("API did not start")


def _world(base: str, agents: int, probes: int, replicas: int) -> list[tuple[str, str]]:
    """A project with ``agents`` locations (one agent each) and all-location probes."""
    created = httpx.post(
        f"{base}/v1/projects", json={"name": "bench"}, headers={"Authorization": f"Bearer {ADMIN}"}
    )
    key = {"Authorization": f"Bearer {created.json()['key']['token']}"}
    tokens = []
    for n in range(agents):
        name = f"loc{n}"
        httpx.post(f"{base}/v1/locations", json={"name": name}, headers=key).raise_for_status()
        agent = httpx.post(f"{base}/v1/agents", json={"name": name, "location": name}, headers=key)
        tokens.append((name, agent.json()["token"]))
    for n in range(probes):
        body = {
            "name": f"p{n}",
            "kind": "tcp",
            "target": "127.0.0.1:9",
            "replicas": [f"127.0.0.{2 + r}:9" for r in range(replicas)],
            "interval_s": 86400,
            "timeout_s": 5,
            "locations": [name for name, _ in tokens],
        }
        httpx.post(f"{base}/v1/probes", json=body, headers=key, timeout=30).raise_for_status()
    return tokens


async def _poll(base: str, location: str, token: str, until: float, out: list[Any]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        while time.monotonic() < until:
            started = time.perf_counter()
            response = await client.post(
                "/v1/agent/lease", json={"location": location, "max_runs": 500}
            )
            out.append((time.perf_counter() - started, location, token, response.json()["runs"]))


async def _post(base: str, batches: asyncio.Queue[Any], stored: list[int]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        while not batches.empty():
            token, items = batches.get_nowait()
            body = {"results": items}
            response = await client.post(
                "/v1/agent/results", json=body, headers={"Authorization": f"Bearer {token}"}
            )
            stored.append(response.json()["accepted"])


def _result(run: dict[str, Any]) -> dict[str, Any]:
    return CallResult(
        run_id=run["run_id"], kind="tcp", target=run["target"], outcome=Outcome.OK, latency_ms=0.4
    ).to_json()


async def _bench(tokens: list[tuple[str, str]], seconds: float, batch: int, posters: int) -> Table:
    base = f"http://127.0.0.1:{API_PORT}"
    leases: list[Any] = []
    until = time.monotonic() + seconds
    await asyncio.gather(*(_poll(base, loc, tok, until, leases) for loc, tok in tokens))
    latencies = sorted(lat for lat, *_ in leases)
    queue: asyncio.Queue[Any] = asyncio.Queue()
    total = 0
    for _, _, token, runs in leases:
        for start in range(0, len(runs), batch):
            chunk = [_result(r) for r in runs[start : start + batch]]
            total += len(chunk)
            queue.put_nowait((token, chunk))
    stored: list[int] = []
    started = time.perf_counter()
    await asyncio.gather(*(_post(base, queue, stored) for _ in range(posters)))
    wall = time.perf_counter() - started
    table = Table(title="API: lease latency and results ingested")
    for column in ("agents", "lease requests", "lease p50 ms", "lease p99 ms", "runs leased"):
        table.add_column(column, justify="right")
    for column in ("results posted", "stored", "batch", "posters", "results/s"):
        table.add_column(column, justify="right")
    table.add_row(
        str(len(tokens)),
        str(len(latencies)),
        f"{statistics.median(latencies) * 1000:.1f}",
        f"{latencies[int(0.99 * (len(latencies) - 1))] * 1000:.1f}",
        str(total),
        str(total),
        str(sum(stored)),
        str(batch),
        str(posters),
        f"{sum(stored) / wall:,.0f}",
    )
    return table


def main(
    agents: int, probes: int, replicas: int, seconds: float, batch: int, posters: int
) -> Table:
    """Run the benchmark on a fresh cluster and return its table."""
    root = cluster.default_root("pg-bench-api")
    url = cluster.start(root, PORT)
    with pool.connect(url) as conn:
        migrate.migrate(conn)
    api = _start_api(url)
    try:
        tokens = _world(f"http://127.0.0.1:{API_PORT}", agents, probes, replicas)
        return asyncio.run(_bench(tokens, seconds, batch, posters))
    finally:
        os.killpg(api.pid, signal.SIGTERM)
        api.wait(30)
        cluster.stop(root)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--probes", type=int, default=100)
    parser.add_argument("--replicas", type=int, default=19)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--posters", type=int, default=4)
    args = parser.parse_args()
    Console().print(
        main(args.agents, args.probes, args.replicas, args.seconds, args.batch, args.posters)
    )
