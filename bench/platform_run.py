"""The issue's long platform run: 2 APIs, 4 agents in 2 locations, many probes, outages.

On a throw-away cluster (.var/pg-bench-platform): ``--probes`` TCP probes every
``--interval`` seconds at both locations (every tenth against a black hole, so
runs stay in hand for their 2 s timeout), for ``--minutes``. At a fifth of the run
one agent is SIGKILLed while it holds a lease and later restarted; at two fifths
the second API stops for ``--api-down`` seconds, its agents spooling meanwhile.
The table comes from the database: runs, results per run, skipped or doubled
slots, re-issued leases, scheduling lag.

    .venv/bin/python -m bench.platform_run --minutes 10 --probes 500 --interval 15
"""

from __future__ import annotations

import argparse
import signal
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench import platform_harness as harness
from store import cluster

PORT = 25442
API_PORTS = (18291, 18292)


def main(args: argparse.Namespace) -> Table:
    """Run the platform for ``args.minutes`` and return the findings as a table."""
    root, url = harness.fresh_cluster("pg-bench-platform", PORT)
    total = args.minutes * 60
    with tempfile.TemporaryDirectory() as tmp, harness.listening() as port:
        environ = harness.env(url, Path(tmp))
        apis = [harness.serve(port, environ) for port in API_PORTS]
        agents = []
        try:
            base = f"http://127.0.0.1:{API_PORTS[0]}"
            world = harness.setup(base, port, args.probes, args.interval, black_hole_every=10)
            started = time.monotonic()
            agents = harness.agents(world, API_PORTS, environ, Path(tmp))
            _until(started, total * 0.2)
            harness.wait_until_holding(url, world.agent_ids["ams"][1])
            harness.stop(agents[1], signal.SIGKILL)
            _until(started, total * 0.3)
            agents[1] = harness.agent(world, "ams", 1, API_PORTS, environ, Path(tmp))
            _until(started, total * 0.4)
            harness.stop(apis[1])
            time.sleep(args.api_down)
            apis[1] = harness.serve(API_PORTS[1], environ)
            _until(started, total)
        finally:
            for proc in agents:
                harness.stop(proc)
            for proc in apis:
                harness.stop(proc)
        found = harness.findings(url, world.project, args.interval)
    cluster.stop(root)
    table = Table(title=f"Platform run: {args.minutes} min, {args.probes} probes every "
                  f"{args.interval} s at 2 locations, 2 APIs, 4 agents")  # fmt: skip
    for column in ("runs", "completed", "open at the end", "completed without exactly one result"):
        table.add_column(column, justify="right")
    for column in ("open with a result", "skipped or doubled slots", "re-issued and completed"):
        table.add_column(column, justify="right")
    table.add_column("lag p50 ms", justify="right")
    table.add_column("lag p99 ms", justify="right")
    table.add_row(
        *(str(v) for v in (found.runs, found.completed, found.open_runs)),
        str(found.completed_without_one_result),
        str(found.open_with_result),
        str(len(found.bad_gaps)),
        str(found.reissued_completed),
        f"{found.lag_p50_ms:.0f}",
        f"{found.lag_p99_ms:.0f}",
    )
    return table


def _until(started: float, offset_s: float) -> None:
    time.sleep(max(0.0, started + offset_s - time.monotonic()))


def parser() -> argparse.ArgumentParser:
    """Command-line options (defaults: the issue's 10-minute run)."""
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--minutes", type=float, default=10)
    options.add_argument("--probes", type=int, default=500)
    options.add_argument("--interval", type=int, default=15)
    options.add_argument("--api-down", type=float, default=60)
    return options


if __name__ == "__main__":
    Console(width=200).print(main(parser().parse_args()))
