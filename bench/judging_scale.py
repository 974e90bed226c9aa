"""The silence sweep and judging at scale: the old full sweep against the deadline sweep.

    .venv/bin/python -m bench.judging_scale [--probes 10000] [--locations 1] [--silent 10]

1. A fresh cluster of its own (.var/pg-bench-judging, port 25471): one project,
   ``--locations`` locations and ``--probes`` enabled TCP probes at all of them, judged
   on latency; one result per (probe, location) stored through ingest's write (which
   marks the pairs), and everything judged.
2. The old sweep's work: every enabled probe marked whole (all its locations' history
   re-read, as ``sweep_once`` did before the queue) and judged; timed.
3. All but ``--silent`` probes report again, past the others' stale bound; judged as
   ingest's marks are (timed: the cost of a reported pair).
4. The new sweep: the pairs past their deadline marked and judged; timed, with the
   number of evaluations; then a sweep with nothing due.

What a reported pair costs at many locations, with a profile: ``bench.judging_throughput``.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from rich.console import Console
from rich.table import Table

from api.services.ingest import store_results
from api.services.judging_queue import JudgingLoop
from api.services.sweeper import sweep_once
from bench import platform_harness as harness
from probes.result import CallResult, Outcome
from store import cluster, judging_queue, locations, pool, probes, projects, thresholds
from store.judging_queue import WHOLE_PROBE
from store.pool import Pool, transaction
from thresholds.rules import Rule

PORT = 25471
BATCH = 2000
console = Console()


def _fields(n: int) -> probes.ProbeFields:
    return probes.ProbeFields(
        name=f"p{n}", kind="tcp", target="h:1", replicas=[], interval_s=60, timeout_s=5,
        enabled=True, options={}, policy={}, tags=[],
    )  # fmt: skip


async def _seed(source: Pool, count: int, places: list[str]) -> tuple[uuid.UUID, list[uuid.UUID]]:
    async with transaction(source) as conn:
        project = (await projects.create_project(conn, "bench judging")).id
        where = [(await locations.create_location(conn, project, p)).id for p in places]
        ids = []
        for n in range(count):
            made = await probes.create_probe(conn, project, _fields(n), location_ids=where)
            rule = Rule(metric="latency_ms", warning=100, critical=500)
            await thresholds.add_threshold(conn, project, made.id, rule)
            ids.append(made.id)
    return project, ids


async def _report(
    source: Pool, project: uuid.UUID, pairs: list[tuple[uuid.UUID, str]], at: datetime
) -> None:
    """One result per pair through ingest's write, which marks the pairs."""
    for start in range(0, len(pairs), BATCH):
        batch = [_result(probe, place, at) for probe, place in pairs[start : start + BATCH]]
        async with transaction(source) as conn:
            await store_results(conn, batch, project)


def _result(probe: uuid.UUID, place: str, at: datetime) -> CallResult:
    return CallResult(
        run_id=uuid.uuid4(), kind="tcp", probe="p", probe_id=probe, target="h:1",
        location=place, started_at=at, outcome=Outcome.OK, latency_ms=20.0,
    )  # fmt: skip


async def _timed(work: Callable[[], Awaitable[int]]) -> tuple[float, int]:
    started = time.perf_counter()
    count = await work()
    return (time.perf_counter() - started) * 1000, count


async def _bench(url: str, count: int, places: list[str], silent: int) -> dict[str, float]:
    source = pool.create_pool(url, max_size=2)
    await source.open()
    loop = JudgingLoop(source)
    t0 = datetime.now(UTC) - timedelta(hours=1)
    later = t0 + timedelta(seconds=3 * 60 + 60 + 1)
    try:
        project, ids = await _seed(source, count, places)
        await _report(source, project, [(p, loc) for p in ids for loc in places], t0)
        await loop.drain(t0)

        async def old_sweep() -> int:
            async with transaction(source) as conn:
                await judging_queue.mark(conn, [(p, WHOLE_PROBE) for p in ids])
            return len(await loop.drain(t0 + timedelta(seconds=60)))

        old_ms, old_n = await _timed(old_sweep)
        reporting = [(p, loc) for p in ids[silent:] for loc in places]
        await _report(source, project, reporting, later)

        async def reported() -> int:
            return len(await loop.drain(later))

        pair_ms, pair_n = await _timed(reported)

        async def new_sweep() -> int:
            await sweep_once(source, later)
            return len(await loop.drain(later))

        new_ms, new_n = await _timed(new_sweep)
        idle_ms, idle_n = await _timed(new_sweep)
    finally:
        await source.close()
    return {
        "old_ms": old_ms, "old_n": old_n, "new_ms": new_ms, "new_n": new_n,
        "idle_ms": idle_ms, "idle_n": idle_n, "pair_ms": pair_ms / max(pair_n, 1),
        "pair_n": pair_n,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probes", type=int, default=10_000)
    parser.add_argument("--locations", type=int, default=1)
    parser.add_argument("--silent", type=int, default=10)
    args = parser.parse_args()
    root, url = harness.fresh_cluster("pg-bench-judging", PORT)
    try:
        places = [f"loc{n}" for n in range(args.locations)]
        found = asyncio.run(_bench(url, args.probes, places, args.silent))
    finally:
        cluster.stop(root)
    _print(args, found)


def _print(args: argparse.Namespace, found: dict[str, float]) -> None:
    table = Table(title="silence sweep: old (every probe) against new (deadlines)")
    for column in ("probes", "locations", "changed", "old sweep ms", "new sweep ms"):
        table.add_column(column, justify="right")
    table.add_column("evaluations per pass (old / new)", justify="right")
    table.add_column("idle sweep ms", justify="right")
    table.add_row(
        str(args.probes), str(args.locations), str(args.silent),
        f"{found['old_ms']:.0f}", f"{found['new_ms']:.1f}",
        f"{found['old_n']:.0f} / {found['new_n']:.0f}", f"{found['idle_ms']:.1f}",
    )  # fmt: skip
    console.print(table)
    console.print(
        f"judging reported pairs: {found['pair_n']:.0f} pairs,"
        f" {found['pair_ms']:.2f} ms a pair (one process, claim to commit)"
    )


if __name__ == "__main__":
    main()
