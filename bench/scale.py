"""10,000 probes from 20 locations at a 1-minute interval against 2 API processes.

The issue's scale bench: 200,000 results a minute (3,333/s) for ``--minutes`` (10),
posted by simulated agents, while the public status page is timed. Run it with

    .venv/bin/python -m bench.scale [--probes 10000] [--locations 20] [--minutes 10]

1. A fresh cluster of its own (.var/pg-bench-scale, port 25447), two
   ``callprobe serve`` processes (ports 18295 and 18296, one worker each) and
   ``--page-processes`` (1) that serve only the public pages (``CALLPROBE_JUDGING`` and
   ``CALLPROBE_NOTIFY_DISPATCH`` off, port 18297 on: what ``callprobe cluster up
   --pages`` starts and the proxy sends ``/s/`` to).
2. Through the API: one project (its probe quota raised to ``--probes``), one
   location and agent per location, ``--probes`` TCP probes every ``--interval``
   seconds at every location (new schedules start spread over one interval), and a
   50-component status page (slug ``scale``).
3. Every schedule is restarted from now at its offset (as ``store.schedules`` makes
   them), so the load starts at the rate rather than with the set-up's backlog.
4. The public page is timed alone for ``--baseline`` seconds (one client a request
   every 0.25 s alternating between the APIs, another likewise on the page processes),
   then again while the load runs, from a process of its own. ``--page-priority N``
   runs the page processes and that timer N nice levels above the rest (what a host of
   their own, or a container's CPU reservation, gives them).
5. One simulated agent per location, half on each API, does what ``callprobe
   agent`` does minus the checks: lease up to ``--max-runs``, post a synthetic
   result per run in batches of ``--batch``, wait ``poll_after_s`` when nothing was
   due. Lease requests are timed at the client.
6. After the run, from the database: runs due in the measured window (after the
   first interval, the warm-up) against runs completed and results stored, the
   schedules left behind, lease lag (leased_at - due_at) p50/p99; judging lag from
   the APIs' ``callprobe_judging_lag_seconds`` histograms; CPU per process from
   /proc (and the load generator's own); rows and bytes per result in the hypertable
   and the hourly rollups.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import queue
import re
import subprocess
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql
from rich.console import Console
from rich.table import Table

from api.cli.cluster_plan import PAGES_ONLY
from bench import platform_harness as harness
from probes.result import CallResult, Outcome
from store import cluster, schedules

DB_PORT = 25447
API_PORTS = (18295, 18296)
PAGE_PORT = 18297
"""The first page process's port; the others follow."""
ADMIN = "scale-bench-admin-token-0123456789ab"
SLUG = "scale"
TICKS = os.sysconf("SC_CLK_TCK")
JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class World:
    """The bench project: its key, one (location, agent token) per location, probe ids."""

    key: dict[str, str]
    agents: list[tuple[str, str]]
    probes: list[str]


def _base(n: int) -> str:
    return f"http://127.0.0.1:{API_PORTS[n % len(API_PORTS)]}"


def _world(args: argparse.Namespace) -> World:
    admin = {"Authorization": f"Bearer {ADMIN}"}
    created = httpx.post(f"{_base(0)}/v1/projects", json={"name": "scale"}, headers=admin)
    created.raise_for_status()
    key = {"Authorization": f"Bearer {created.json()['key']['token']}"}
    agents = []
    with httpx.Client(base_url=_base(0), headers=key, timeout=30) as client:
        for n in range(args.locations):
            name = f"loc{n:02d}"
            client.post("/v1/locations", json={"name": name}).raise_for_status()
            agent = client.post("/v1/agents", json={"name": name, "location": name})
            agent.raise_for_status()
            agents.append((name, agent.json()["token"]))
    locations = [name for name, _ in agents]

    def create(n: int) -> str:
        body = {
            "name": f"trunk {n}",
            "kind": "tcp",
            "target": "127.0.0.1:9",
            "interval_s": args.interval,
            "timeout_s": 5,
            "locations": locations,
        }
        response = httpx.post(f"{_base(n)}/v1/probes", json=body, headers=key, timeout=60)
        response.raise_for_status()
        return str(response.json()["id"])

    with ThreadPoolExecutor(8) as threads:
        probes = list(threads.map(create, range(args.probes)))
    components = [
        {"probe_id": probe, "name": f"Trunk {n + 1}", "group": f"Group {n // 10 + 1}"}
        for n, probe in enumerate(probes[:50])
    ]
    page = {"name": "Scale Voice", "slug": SLUG, "components": components}
    httpx.post(f"{_base(0)}/v1/pages", json=page, headers=key, timeout=30).raise_for_status()
    return World(key=key, agents=agents, probes=probes)


@dataclass
class Seen:
    """What the clients measured."""

    leases: list[float] = field(default_factory=list)
    page: list[float] = field(default_factory=list)
    """The page's times from the APIs."""
    page_process: list[float] = field(default_factory=list)
    """The page's times from the page processes."""
    posted: int = 0
    errors: list[str] = field(default_factory=list)


_HOLES = ("@run@", "@target@", "@start@")
_PARTS = json.dumps(
    {
        **CallResult(
            run_id=uuid.UUID(int=0), kind="tcp", target="", outcome=Outcome.OK, latency_ms=0.4
        ).to_json(),
        "run_id": _HOLES[0],
        "target": _HOLES[1],
        "started_at": _HOLES[2],
    }
).split('"@')
"""A result as ``callprobe agent`` posts it (every field), its JSON cut at the three values
each run fills in. Encoding each result with ``json`` (or making a ``CallResult`` per run)
cost the simulated agents most of a core at 3,333 results/s: CPU that real agents spend
on other machines, taken here from the API processes under test."""


def _batch(runs: list[dict[str, Any]], started_at: str) -> bytes:
    """A ``ResultBatch`` body: each run's id, target and start put into the template."""
    head, run_id, target, start = _PARTS
    run_rest, target_rest, start_rest = (part.split('@"', 1)[1] for part in (run_id, target, start))
    items = (
        f'{head}"{run["run_id"]}"{run_rest}{json.dumps(run["target"])}{target_rest}'
        f'"{started_at}"{start_rest}'
        for run in runs
    )
    return f'{{"results": [{",".join(items)}]}}'.encode()


async def _agent(n: int, location: str, token: str, until: float, args: Any, seen: Seen) -> None:
    """What ``callprobe agent`` does, minus running the checks."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=_base(n), headers=headers, timeout=60) as client:
        while time.monotonic() < until:
            started = time.perf_counter()
            asked = {"location": location, "max_runs": args.max_runs}
            response = await client.post("/v1/agent/lease", json=asked)
            seen.leases.append(time.perf_counter() - started)
            if response.status_code != 200:
                seen.errors.append(f"lease {response.status_code}")
                await asyncio.sleep(1)
                continue
            lease = response.json()
            runs = lease["runs"]
            for start in range(0, len(runs), args.batch):
                body = _batch(runs[start : start + args.batch], datetime.now(UTC).isoformat())
                posted = await client.post("/v1/agent/results", content=body, headers=JSON)
                if posted.status_code != 200:
                    seen.errors.append(f"results {posted.status_code}")
                else:
                    seen.posted += posted.json()["accepted"]
            if len(runs) < args.max_runs:
                await asyncio.sleep(lease["poll_after_s"])


async def _pages(until: float, out: list[float], ports: list[int]) -> None:
    """The public page, one request every 0.25 s, alternating between ``ports``."""
    clients = [httpx.AsyncClient(base_url=f"http://127.0.0.1:{p}", timeout=30) for p in ports]
    n = 0
    try:
        while time.monotonic() < until:
            started = time.perf_counter()
            response = await clients[n % len(clients)].get(f"/s/{SLUG}")
            response.raise_for_status()
            out.append(time.perf_counter() - started)
            n += 1
            await asyncio.sleep(0.25)
    finally:
        for client in clients:
            await client.aclose()


def _page_ports(args: argparse.Namespace) -> list[int]:
    return [PAGE_PORT + n for n in range(args.page_processes)]


async def _timed_pages(until: float, page_ports: list[int], seen: Seen) -> None:
    """The page from the APIs and, apart, from the page processes (if any)."""
    timers = [_pages(until, seen.page, list(API_PORTS))]
    if page_ports:
        timers.append(_pages(until, seen.page_process, page_ports))
    await asyncio.gather(*timers)


def _prioritize(pid: int, levels: int) -> None:
    """Run ``pid`` ``levels`` nice levels above the rest. With autogroup scheduling (the
    kernel's default here) CPU is shared between sessions first, and every server runs
    in a session of its own: the session's nice value is the one that counts."""
    os.setpriority(os.PRIO_PROCESS, pid, -levels)
    autogroup = Path(f"/proc/{pid}/autogroup")
    if autogroup.exists():
        autogroup.write_text(str(-levels))


def _page_timer(seconds: float, page_ports: list[int], priority: int, out: Any) -> None:
    if priority:
        os.setsid()
        _prioritize(os.getpid(), priority)
    seen = Seen()
    asyncio.run(_timed_pages(time.monotonic() + seconds, page_ports, seen))
    out.put((seen.page, seen.page_process))


def _time_pages_apart(seconds: float, args: argparse.Namespace) -> Callable[[], tuple[Any, Any]]:
    """Time the page for ``seconds`` from a process of its own, as a visitor would (on
    the load generator's event loop, a reply waited while it built a batch); a function
    that waits for the times (from the APIs, from the page processes)."""
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    timer = context.Process(
        target=_page_timer, args=(seconds, _page_ports(args), args.page_priority, out)
    )
    timer.start()

    def times() -> tuple[Any, Any]:
        try:
            found = out.get(timeout=seconds + 60)
        except queue.Empty:
            raise RuntimeError(f"the page timer gave no times (exit {timer.exitcode})") from None
        timer.join()
        return found  # type: ignore[no-any-return]

    return times


async def _load(world: World, args: argparse.Namespace, seen: Seen) -> None:
    until = time.monotonic() + args.minutes * 60
    agents = [
        _agent(n, location, token, until, args, seen)
        for n, (location, token) in enumerate(world.agents)
    ]
    await asyncio.gather(*agents)


_RESTART = sql.SQL(
    "UPDATE schedules s SET next_due = {} FROM probes p WHERE p.id = s.probe_id"
).format(sql.SQL(schedules.FIRST_DUE))


def _restart_schedules(url: str) -> None:
    """Schedules fell due during the set-up: start them from now, at their offsets."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(_RESTART)


def _cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds of the processes and their children so far."""
    return sum(_cpu_by_pid(pids).values())


def _cpu_by_pid(pids: list[int]) -> dict[int, float]:
    """Each live process's user + system CPU seconds (with its children's) so far."""
    found = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        found[pid] = sum(int(fields[k]) for k in (11, 12, 13, 14)) / TICKS
    return found


def _cluster_cpu_since(root: Path, before: dict[int, float]) -> float:
    """CPU seconds the cluster's processes used since ``before`` (per pid): backends the
    pools opened meanwhile count from zero; those that ended meanwhile are lost."""
    now = _cpu_by_pid(_postgres_pids(root))
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in now.items())


def _postgres_pids(root: Path) -> list[int]:
    """The postmaster and its backends."""
    postmaster = (root / "data" / "postmaster.pid").read_text().split()[0]
    children = subprocess.run(
        ["pgrep", "-P", postmaster], check=False, capture_output=True, text=True
    ).stdout.split()
    return [int(postmaster), *(int(pid) for pid in children)]


_BUCKET = re.compile(r'^callprobe_judging_lag_seconds_bucket\{le="([^"]+)"\} (\S+)$', re.M)


def _judging_lag(q: float) -> str:
    """The q-quantile's upper bucket bound from both APIs' histograms, or n/a."""
    merged: dict[float, float] = {}
    for n in range(len(API_PORTS)):
        text = httpx.get(f"{_base(n)}/metrics", headers={"Authorization": f"Bearer {ADMIN}"}).text
        for bound, count in _BUCKET.findall(text):
            merged[float(bound)] = merged.get(float(bound), 0.0) + float(count)
    if not merged or not merged.get(float("inf")):
        return "n/a"
    total = merged[float("inf")]
    bound = next(b for b in sorted(merged) if merged[b] >= q * total)
    return f"≤ {bound:g} s"


@dataclass(frozen=True)
class Stored:
    """What the database holds after the run."""

    due: int
    completed: int
    results: int
    behind: int
    lag_p50_ms: float
    lag_p99_ms: float
    bytes_per_result: float
    rollup_bytes_per_hour: float
    marks_waiting: int
    oldest_mark_s: float


_WINDOW = """
SELECT count(*), count(completed_at),
       percentile_disc(0.5) WITHIN GROUP (ORDER BY leased_at - due_at),
       percentile_disc(0.99) WITHIN GROUP (ORDER BY leased_at - due_at)
FROM runs WHERE due_at BETWEEN %s AND %s AND attempts = 1
"""


_SIZES = """
SELECT (SELECT count(*) FROM call_results),
       (SELECT count(*) FROM schedules WHERE next_due < now() - interval '1 minute'),
       hypertable_size('call_results'),
       pg_total_relation_size('result_rollup_hourly'),
       (SELECT count(DISTINCT bucket) FROM result_rollup_hourly),
       (SELECT count(*) FROM judging_queue),
       (SELECT coalesce(extract(epoch FROM now() - min(marked_at)), 0) FROM judging_queue)
"""


def _one(conn: psycopg.Connection[Any], query: str, *params: Any) -> tuple[Any, ...]:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return tuple(row)


def _stored(url: str, start: datetime, end: datetime) -> Stored:
    with psycopg.connect(url, autocommit=True) as conn:
        due, completed, p50, p99 = _one(conn, _WINDOW, start, end)
        results, behind, size, rollup_size, hours, marks, oldest = _one(conn, _SIZES)
    return Stored(
        due=due,
        completed=completed,
        results=results,
        behind=behind,
        lag_p50_ms=p50.total_seconds() * 1000 if p50 else 0.0,
        lag_p99_ms=p99.total_seconds() * 1000 if p99 else 0.0,
        bytes_per_result=size / max(results, 1),
        rollup_bytes_per_hour=rollup_size / max(hours, 1),
        marks_waiting=marks,
        oldest_mark_s=float(oldest),
    )


def _ms(values: list[float], q: float) -> str:
    ordered = sorted(values)
    return f"{ordered[int(q * (len(ordered) - 1))] * 1000:.1f}" if ordered else "n/a"


def main(args: argparse.Namespace) -> Table:
    """Run the bench on a fresh cluster and return its table."""
    root, url = harness.fresh_cluster("pg-bench-scale", DB_PORT)
    environ = {
        **os.environ,
        "CALLPROBE_DATABASE_URL": url,
        "CALLPROBE_ADMIN_TOKEN": ADMIN,
        "CALLPROBE_MAX_PROBES_PER_PROJECT": str(args.probes),
    }
    apis = [harness.serve(port, environ, "--log-level", "warning") for port in API_PORTS]
    pages_only = {**environ, **PAGES_ONLY}
    apis += [harness.serve(p, pages_only, "--log-level", "warning") for p in _page_ports(args)]
    for page_process in apis[len(API_PORTS) :]:
        _prioritize(page_process.pid, args.page_priority)
    try:
        started = time.monotonic()
        world = _world(args)
        setup_s = time.monotonic() - started
        _restart_schedules(url)
        baseline = Seen()
        baseline.page, baseline.page_process = _time_pages_apart(args.baseline, args)()
        seen = Seen()
        pids = [api.pid for api in apis]
        pg_before = _cpu_by_pid(_postgres_pids(root))
        cpu_before = [_cpu_s([pid]) for pid in pids]
        generator_before = time.process_time()
        load_from, wall_from = time.monotonic(), datetime.now(UTC)
        page_times = _time_pages_apart(args.minutes * 60, args)
        asyncio.run(_load(world, args, seen))
        load_s = time.monotonic() - load_from
        seen.page, seen.page_process = page_times()
        cpu = [(_cpu_s([pid]) - b) / load_s for pid, b in zip(pids, cpu_before, strict=False)]
        if args.page_processes:
            cpu[len(API_PORTS) :] = [sum(cpu[len(API_PORTS) :])]
        cpu.append(_cluster_cpu_since(root, pg_before) / load_s)
        cpu.append((time.process_time() - generator_before) / load_s)
        time.sleep(5)
        warm = timedelta(seconds=args.interval)
        stored = _stored(url, wall_from + warm, wall_from + timedelta(seconds=load_s) - warm)
        lag99 = _judging_lag(0.99)
        lag50 = _judging_lag(0.5)
    finally:
        for api in apis:
            harness.stop(api)
        cluster.stop(root)
    return _table(args, world, seen, baseline, stored, cpu, (lag50, lag99), (setup_s, load_s))


def _table(
    args: argparse.Namespace,
    world: World,
    seen: Seen,
    baseline: Seen,
    stored: Stored,
    cpu: list[float],
    lags: tuple[str, str],
    times: tuple[float, float],
) -> Table:
    table = Table(
        title=f"{len(world.probes):,} probes x {len(world.agents)} locations every "
        f"{args.interval} s for {times[1] / 60:.1f} min against {len(API_PORTS)} API processes "
        f"and {args.page_processes} page processes, nice -{args.page_priority} "
        f"(set-up {times[0]:.0f} s)"
    )
    table.add_column("measure")
    table.add_column("value", justify="right")
    rate = len(world.probes) * len(world.agents) / args.interval
    rows = [
        ("results due per second (target)", f"{rate:,.0f}"),
        ("results posted per second (measured)", f"{seen.posted / times[1]:,.0f}"),
        ("runs due in the measured window / completed", f"{stored.due:,} / {stored.completed:,}"),
        ("results stored", f"{stored.results:,}"),
        ("schedules over a minute behind at the end", f"{stored.behind:,}"),
        (
            "lease lag (leased - due) p50 / p99 ms",
            f"{stored.lag_p50_ms:.0f} / {stored.lag_p99_ms:.0f}",
        ),
        ("lease request p50 / p99 ms", f"{_ms(seen.leases, 0.5)} / {_ms(seen.leases, 0.99)}"),
        ("judging lag p50 / p99 (mark to judgement)", f"{lags[0]} / {lags[1]}"),
        (
            "marks waiting at the end / oldest",
            f"{stored.marks_waiting:,} / {stored.oldest_mark_s:.0f} s",
        ),
        *_page_rows("from the APIs", baseline.page, seen.page),
        *(
            _page_rows("from a page process", baseline.page_process, seen.page_process)
            if args.page_processes
            else []
        ),
        (
            "CPU: API 1 / API 2 / page processes / PostgreSQL / load generator (cores)"
            if args.page_processes
            else "CPU: API 1 / API 2 / PostgreSQL / load generator (cores)",
            " / ".join(f"{c:.2f}" for c in cpu),
        ),
        ("bytes per stored result (hypertable, indexes)", f"{stored.bytes_per_result:,.0f}"),
        ("rollup bytes per hour (all probes)", f"{stored.rollup_bytes_per_hour:,.0f}"),
        ("client errors", f"{len(seen.errors)} {sorted(set(seen.errors))[:3]}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def _page_rows(where: str, before: list[float], under: list[float]) -> list[tuple[str, str]]:
    def times(seen: list[float]) -> str:
        return f"{_ms(seen, 0.5)} / {_ms(seen, 0.99)}"

    return [
        (f"public page {where} p50 / p99 ms, before", times(before)),
        (f"public page {where} p50 / p99 ms, under load", times(under)),
    ]


def parser() -> argparse.ArgumentParser:
    """Command-line options (defaults: the issue's 10,000 probes, 20 locations, 10 min)."""
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--probes", type=int, default=10_000)
    options.add_argument("--locations", type=int, default=20)
    options.add_argument("--interval", type=int, default=60)
    options.add_argument("--minutes", type=float, default=10.0)
    options.add_argument("--baseline", type=float, default=20.0)
    options.add_argument("--max-runs", type=int, default=500)
    options.add_argument("--batch", type=int, default=500)
    options.add_argument("--page-processes", type=int, default=1)
    options.add_argument(
        "--page-priority",
        type=int,
        default=0,
        help="nice levels the page processes and the page's timer run above the rest"
        " (needs root or CAP_SYS_NICE)",
    )
    return options


if __name__ == "__main__":
    Console(width=200).print(main(parser().parse_args()))
