"""The issue's fault run: 2 APIs, 3 agents and a TimescaleDB of its own, faults on a schedule.

TCP probes (every tenth at a black hole, so runs stay in hand for their 2 s timeout)
at two locations: ams has two agents, the first cuttable; fra has one, whose clock runs
30 s fast (faketime) throughout. Over ``--minutes``, each fault after the one before:

- at 10 %: API 1 is killed with SIGKILL, restarted ``--api-down`` seconds later;
- at 20 %: PostgreSQL stops for ``--db-down`` seconds (fast shutdown);
- at 30 %: the proxy stops for ``--proxy-down`` seconds (not in ``processes``: no proxy);
- at 35 %: ams-0 is cut off from the API for ``--cut`` seconds (at most half the run).

Then the agents stop (gracefully) and the table comes from the database, by run id.
``--topology`` picks where the members run (:data:`TOPOLOGIES`):

- ``processes`` (``bench/fault_topology.py``): local processes, no proxy; ams-0 and
  fra-0 talk to API 1 (ams-0 through a cuttable relay), ams-1 to API 2;
- ``cluster`` (``bench/fault_cluster.py``): ``callprobe cluster``'s members, every agent
  through the Caddy proxy (ams-0 through a relay in front of it);
- ``compose`` (``bench/fault_compose.py``): docker/compose.yaml under podman,
  containers killed, stopped and started; ams-0 cut by disconnecting its container.

    .venv/bin/python -m bench.fault_run --topology cluster --minutes 10
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench import platform_harness as harness
from bench.fault_checks import (
    FaultFindings,
    Lag,
    Watch,
    fault_findings,
    holding,
    sample_lag,
    watching,
)
from bench.fault_cluster import cluster_topology
from bench.fault_compose import compose_topology
from bench.fault_topology import Processes, Topology
from store import cluster

PORT = 25501
API_PORTS = (18508, 18509)
SKEW = "+30s"
SETTLED = timedelta(seconds=30)
"""Runs due this long before the agents stopped must be complete."""


@contextlib.contextmanager
def processes(tmp: Path) -> Iterator[tuple[Topology, str]]:
    """Local processes on a fresh cluster (.var/pg-bench-faults); its URL."""
    root, url = harness.fresh_cluster("pg-bench-faults", PORT)
    try:
        with harness.listening() as port, harness.black_hole() as hole:
            topology = Processes(root, PORT, harness.env(url, tmp), tmp, API_PORTS, (port, hole))
            try:
                yield topology, url
            finally:
                topology.stop()
    finally:
        cluster.stop(root)


TOPOLOGIES: dict[str, Callable[[Path], AbstractContextManager[tuple[Topology, str]]]] = {
    "processes": processes,
    "cluster": cluster_topology,
    "compose": compose_topology,
}


@dataclass(frozen=True)
class Outcome:
    """What the run found and saw; whether a proxy was restarted."""

    found: FaultFindings
    watch: Watch
    lag: Lag
    proxy: bool


def run(args: argparse.Namespace, tmp: Path) -> Outcome:
    """Start the topology, apply the faults on their schedule, stop, count."""
    total = args.minutes * 60
    lag = Lag()
    with TOPOLOGIES[args.topology](tmp) as (topology, url):
        try:
            topology.start()
            world = topology.setup(args.probes, args.interval, black_hole_every=10)
            threading.Thread(target=sample_lag, args=(lag, url, world.project)).start()
            started = time.monotonic()
            topology.start_agent(world, "ams", 0, cuttable=True)
            topology.start_agent(world, "ams", 1)
            topology.start_agent(world, "fra", 0, skew=SKEW)
            with watching(topology.entry, world.tokens["ams"][1], world.key) as watch:
                proxy = _faults(args, topology, started, total, cut_while=(url, world))
        finally:
            stopped = datetime.now(UTC)
            topology.stop()
            lag.stop.set()
        found = fault_findings(url, world.project, stopped - SETTLED)
    return Outcome(found, watch, lag, proxy)


def _faults(
    args: argparse.Namespace,
    topology: Topology,
    started: float,
    total: float,
    cut_while: tuple[str, harness.World],
) -> bool:
    """Apply the faults; whether there was a proxy to restart. ams-0 is cut while it
    holds a run at the black hole (``cut_while``: the database and the world), so that
    run's lease expires and goes to ams-1."""
    _until(started, total * 0.10)
    topology.kill_api(0)
    time.sleep(args.api_down)
    topology.start_api(0)
    _until(started, total * 0.20)
    topology.stop_database()
    time.sleep(args.db_down)
    topology.start_database()
    _until(started, total * 0.30)
    proxy = topology.stop_proxy()
    if proxy:
        time.sleep(args.proxy_down)
        topology.start_proxy()
    _until(started, total * 0.35)
    url, world = cut_while
    holding(url, world.agent_ids["ams"][0])
    topology.cut("ams", 0)
    time.sleep(min(args.cut, total * 0.5))
    topology.restore("ams", 0)
    _until(started, total)
    return proxy


def _until(started: float, offset_s: float) -> None:
    time.sleep(max(0.0, started + offset_s - time.monotonic()))


def table(args: argparse.Namespace, outcome: Outcome) -> Table:
    """The findings as one row."""
    found, watch, lag = outcome.found, outcome.watch, outcome.lag
    title = (
        f"Fault run ({args.topology}): {args.minutes:g} min, {args.probes} TCP probes every"
        f" {args.interval} s at 2 locations, 2 APIs, 3 agents"
    )
    columns = {
        "runs": found.runs,
        "completed": found.completed,
        "lost": found.lost,
        "duplicated": found.duplicated,
        "re-issued": found.reissued,
        "proxy restarted": "yes" if outcome.proxy else "n/a",
        "503s agent/admin (with Retry-After)": (
            f"{watch.statuses['agent', 503]}/{watch.statuses['admin', 503]}"
            f" ({watch.unavailable('agent')}/{watch.unavailable('admin')})"
        ),
        "late results accepted": found.late,
        "rollup mismatches": found.rollup_mismatches,
        "judging lag p50/p99/max s (samples)": (
            f"{lag.median():.1f}/{lag.p99():.1f}/{max(lag.samples, default=0):.1f}"
            f" ({len(lag.samples)} samples)"
        ),
    }
    result = Table(title=title)
    for name in columns:
        result.add_column(name, justify="right")
    result.add_row(*(str(value) for value in columns.values()))
    return result


def parser() -> argparse.ArgumentParser:
    """Command-line options (defaults: the issue's 10-minute run)."""
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--minutes", type=float, default=10)
    options.add_argument("--probes", type=int, default=60)
    options.add_argument("--interval", type=int, default=10)
    options.add_argument("--api-down", type=float, default=5)
    options.add_argument("--db-down", type=float, default=15)
    options.add_argument("--proxy-down", type=float, default=10)
    options.add_argument("--cut", type=float, default=300)
    options.add_argument("--topology", choices=sorted(TOPOLOGIES), default="processes")
    return options


def main() -> None:
    """Run, print the table; a SIGTERM stops the run like Ctrl-C (everything it started
    is stopped on the way out)."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    arguments = parser().parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        outcome = run(arguments, Path(scratch))
    Console(width=220).print(table(arguments, outcome))


if __name__ == "__main__":
    main()
