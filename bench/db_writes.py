"""Call results written per second into TimescaleDB (the embedded cluster).

Uses a throw-away cluster under .var/pg-bench so the development data stays clean.

    .venv/bin/python bench/db_writes.py --rows 50000 --batch 500
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from datetime import UTC, datetime, timedelta

from rich.console import Console
from rich.table import Table

from probes.result import CallResult, Outcome
from store import cluster, migrate, pool
from store.results import insert_results

PORT = 25439


def _results(n: int) -> list[CallResult]:
    rng = random.Random(7)
    start = datetime.now(UTC) - timedelta(days=30)
    return [
        CallResult(
            probe=f"probe-{i % 50}",
            target="sip:echo@127.0.0.1:5080",
            outcome=Outcome.OK,
            started_at=start + timedelta(seconds=i),
            codec="PCMU",
            sip_status=200,
            pdd_ms=rng.uniform(1, 300),
            setup_ms=rng.uniform(50, 900),
            rx_packets=500,
            rx_lost=rng.randint(0, 5),
            rx_loss_pct=rng.uniform(0, 1),
            jitter_ms=rng.uniform(0, 5),
            rtt_ms=rng.uniform(1, 80),
            pesq_mos=rng.uniform(3.5, 4.3),
            emodel_mos=4.3,
            r_factor=90.0,
        )
        for i in range(n)
    ]


async def _write(url: str, results: list[CallResult], batch: int) -> float:
    started = time.perf_counter()
    for offset in range(0, len(results), batch):
        async with pool.transaction(url) as conn:
            await insert_results(conn, results[offset : offset + batch])
    return time.perf_counter() - started


def main(rows: int, batch: int) -> Table:
    root = cluster.default_root("pg-bench")
    url = cluster.start(root, PORT)
    with pool.connect(url) as conn:
        migrate.migrate(conn)
    table = Table(title="Results written to TimescaleDB (one connection)")
    for column in ("rows", "batch", "seconds", "results/s"):
        table.add_column(column, justify="right")
    try:
        seconds = asyncio.run(_write(url, _results(rows), batch))
        table.add_row(str(rows), str(batch), f"{seconds:.2f}", f"{rows / seconds:,.0f}")
    finally:
        cluster.stop(root)
    return table


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    Console().print(main(args.rows, args.batch))
