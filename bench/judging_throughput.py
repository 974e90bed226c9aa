"""What judging one reported (probe, location) pair costs: the judging queue's throughput.

    .venv/bin/python -m bench.judging_throughput [--probes 2000] [--locations 20]
        [--arrival together|by-location]

A fresh cluster of its own (.var/pg-bench-judging-tp, port 25540), probes seeded as
``bench.judging_scale`` does (TCP, judged on latency). ``--history`` rounds of one
result per pair are stored through ingest's write (which marks the pairs) and judged
untimed, so each pair has a full history. Then each of ``--rounds`` rounds stores one
more result per pair and times ``JudgingLoop.drain``: wall time, this process's CPU and
the cluster's CPU (every PostgreSQL process of it). ``--arrival together`` stores a
round's results of every location before judging (a probe's locations report together,
as schedules make them); ``by-location`` stores and judges one location at a time (as
when each location ran the probe at its own moment), so each judgement re-reads one
location of a probe and combines it with the kept verdicts of the others. The last
round runs under cProfile.
A few results are slow or failed (fixed by the pair and the round), so verdicts and
transitions move; the digest of the judged states (times relative to the first round)
must be equal before and after a change to judging.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import io
import os
import pstats
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from api.services.ingest import store_results
from api.services.judging_queue import JudgingLoop
from bench import platform_harness as harness
from bench.judging_scale import BATCH, _seed
from probes.result import CallResult, Outcome
from store import cluster, pool
from store.pool import Pool, transaction

PORT = 25540
STEP = timedelta(seconds=60)
TICK = os.sysconf("SC_CLK_TCK")

_DIGEST = """
SELECT p.name, h.location, h.state, h.reasons::text,
       extract(epoch FROM h.since - %(t0)s), extract(epoch FROM h.evaluated_at - %(t0)s)
FROM probe_health h JOIN probes p ON p.id = h.probe_id
UNION ALL
SELECT p.name, 'kept ' || v.location, v.state, v.reasons::text,
       extract(epoch FROM v.newest_at - %(t0)s), extract(epoch FROM v.due_at - %(t0)s)
FROM location_verdicts v JOIN probes p ON p.id = v.probe_id
UNION ALL
SELECT p.name, 'transition', t.to_state, t.reasons::text,
       extract(epoch FROM t.at - %(t0)s), NULL
FROM health_transitions t JOIN probes p ON p.id = t.probe_id
ORDER BY 1, 2, 5, 3
"""


def _result(probe: uuid.UUID, n: int, place: int, at: datetime, round_: int) -> CallResult:
    """Mostly fast; now and then slow, very slow or timed out (by pair and round)."""
    turn = n * 7 + place * 3 + round_
    latency, outcome = 20.0, Outcome.OK
    if turn % 53 == 0:
        outcome = Outcome.SETUP_TIMEOUT
    elif turn % 37 == 0:
        latency = 600.0
    elif turn % 23 == 0:
        latency = 150.0
    return CallResult(
        run_id=uuid.uuid4(), kind="tcp", probe="p", probe_id=probe, target="h:1",
        location=f"loc{place}", started_at=at, outcome=outcome, latency_ms=latency,
    )  # fmt: skip


async def _round(
    source: Pool,
    project: uuid.UUID,
    ids: list[uuid.UUID],
    places: Sequence[int],
    round_: int,
    t0: datetime,
) -> datetime:
    """Store one result per probe at each of ``places``; the moment to judge at."""
    at = t0 + round_ * STEP
    batch = [_result(p, n, k, at, round_) for n, p in enumerate(ids) for k in places]
    for start in range(0, len(batch), BATCH):
        async with transaction(source) as conn:
            await store_results(conn, batch[start : start + BATCH], project)
    return at + timedelta(seconds=5)


def _arrivals(args: argparse.Namespace) -> list[list[int]]:
    """The locations whose results arrive before each drain of a round."""
    if args.arrival == "together":
        return [list(range(args.locations))]
    return [[place] for place in range(args.locations)]


def _cluster_cpu(root: Path) -> float:
    """CPU seconds of the cluster's postmaster and its children so far."""
    postmaster = int((root / "data" / "postmaster.pid").read_text().split()[0])
    total = 0
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if entry.name == str(postmaster) or fields[1] == str(postmaster):
            total += int(fields[11]) + int(fields[12])
    return total / TICK


async def _timed_drain(
    loop: JudgingLoop, now: datetime, root: Path, profile: cProfile.Profile | None
) -> dict[str, float]:
    wall, cpu, db = time.perf_counter(), time.process_time(), _cluster_cpu(root)
    if profile:
        profile.enable()
    pairs = len(await loop.drain(now))
    if profile:
        profile.disable()
    return {
        "pairs": pairs,
        "wall": time.perf_counter() - wall,
        "cpu": time.process_time() - cpu,
        "db": _cluster_cpu(root) - db,
    }


async def _digest(source: Pool, t0: datetime) -> str:
    async with transaction(source) as conn:
        rows = await (await conn.execute(_DIGEST, {"t0": t0})).fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()[:16]


async def _bench(
    url: str, root: Path, args: argparse.Namespace
) -> tuple[list[dict[str, float]], str, str]:
    source = pool.create_pool(url, max_size=2)
    await source.open()
    loop = JudgingLoop(source)
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    places = [f"loc{n}" for n in range(args.locations)]
    try:
        project, ids = await _seed(source, args.probes, places)
        everywhere = range(args.locations)
        for round_ in range(args.history):
            now = await _round(source, project, ids, everywhere, round_, t0)
        await loop.drain(now)
        timings, profile = [], cProfile.Profile()
        for round_ in range(args.history, args.history + args.rounds):
            last = round_ == args.history + args.rounds - 1
            summed: dict[str, float] = {}
            for arriving in _arrivals(args):
                now = await _round(source, project, ids, arriving, round_, t0)
                timed = await _timed_drain(loop, now, root, profile if last else None)
                summed = {key: summed.get(key, 0.0) + value for key, value in timed.items()}
            timings.append(summed)
        return timings, await _digest(source, t0), _top(profile, args.top, args.sort)
    finally:
        await source.close()


def _top(profile: cProfile.Profile, count: int, order: str) -> str:
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats(order).print_stats(count)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probes", type=int, default=2000)
    parser.add_argument("--locations", type=int, default=20)
    parser.add_argument("--history", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--arrival", choices=("together", "by-location"), default="together")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--sort", default="tottime", help="cProfile order: tottime, cumulative")
    args = parser.parse_args()
    root, url = harness.fresh_cluster("pg-bench-judging-tp", PORT)
    try:
        timings, digest, top = asyncio.run(_bench(url, root, args))
    finally:
        cluster.stop(root)
    _print(timings, digest, top)


def _print(timings: list[dict[str, float]], digest: str, top: str) -> None:
    print("round  pairs  pairs/s  wall ms/pair  API cpu ms/pair  DB cpu ms/pair")
    for n, t in enumerate(timings):
        pairs = max(t["pairs"], 1)
        print(
            f"{n + 1:>5}  {t['pairs']:>5.0f}  {pairs / t['wall']:>7.0f}"
            f"  {1000 * t['wall'] / pairs:>12.3f}  {1000 * t['cpu'] / pairs:>15.3f}"
            f"  {1000 * t['db'] / pairs:>14.3f}"
        )
    print("(the last round ran under cProfile)")
    print(f"verdict digest: {digest}")
    print(top)


if __name__ == "__main__":
    main()
