"""How many simultaneous calls this box sustains before audio quality drops.

For each level N, N calls run at once against one SIPp `-rtp_echo` UAS (bit-exact
echo, so any score drop is ours), set up at the engine's default pace (50/s). Scoring
runs in a separate pool, as in production. Prints one row per level: median and
minimum PESQ against the single-call score, packets lost, jitter-buffer underruns,
the engine processes' CPU per call, and the machine's CPU over the whole level.

    .venv/bin/python bench/concurrent_calls.py --levels 1,25,50,100,128 --talk 8
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import time
from concurrent.futures import ProcessPoolExecutor

from rich.console import Console
from rich.table import Table

from probes.call_probe import CallRequest, run_call
from probes.result import CallResult
from probes.scoring import scoring_pool
from probes.sip.engine import CallEngine, EngineConfig
from probes.sip.worker import MAX_CALLS

SIPP_PORT = 5390


def _process_cpu_s(pids: list[int]) -> float:
    ticks = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _cpu_busy() -> tuple[float, float]:
    with open("/proc/stat") as fh:
        fields = [float(x) for x in fh.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


async def _level(
    engine: CallEngine, scorer: ProcessPoolExecutor, n: int, talk: float
) -> tuple[list[CallResult], float, float]:
    """Results, engine CPU seconds, machine CPU % for one level."""
    request = CallRequest(target=f"sip:echo@127.0.0.1:{SIPP_PORT}", talk_s=talk)
    pids = engine.worker_pids()
    busy0, total0 = _cpu_busy()
    engine0 = _process_cpu_s(pids)
    results = await asyncio.gather(*(run_call(engine, scorer, request) for _ in range(n)))
    engine_s = _process_cpu_s(pids) - engine0
    busy1, total1 = _cpu_busy()
    return list(results), engine_s, 100.0 * (busy1 - busy0) / max(1.0, total1 - total0)


async def main(levels: list[int], talk: float) -> Table:
    processes = -(-max(levels) // MAX_CALLS)
    config = EngineConfig(processes=processes, sip_port_base=5400, rtp_port_base=20000,
                          rtp_ports_per_worker=40, wideband_processes=0)  # fmt: skip
    table = Table(title=f"Concurrent calls ({processes} engine processes, {os.cpu_count()} cores)")
    columns = ("calls", "ok", "PESQ median", "PESQ min", "min - single", "lost pkts",
               "JB underruns", "engine CPU % of a core per call", "machine CPU %")  # fmt: skip
    for column in columns:
        table.add_column(column, justify="right")
    async with CallEngine(config) as engine:
        with scoring_pool(2) as scorer:
            single: float | None = None
            for n in levels:
                results, engine_s, cpu = await _level(engine, scorer, n, talk)
                scores = [r.pesq_mos for r in results if r.pesq_mos is not None]
                single = single if single is not None else (scores[0] if scores else None)
                ok = sum(r.outcome.value == "ok" for r in results)
                lost = sum(r.rx_lost or 0 for r in results)
                underruns = sum(r.jb_empty or 0 for r in results)
                per_call = 100.0 * engine_s / (n * talk)
                low = min(scores) if scores else float("nan")
                table.add_row(
                    str(n), str(ok), f"{statistics.median(scores):.3f}" if scores else "-",
                    f"{low:.3f}", f"{low - (single or 0):+.3f}", str(lost), str(underruns),
                    f"{per_call:.2f}", f"{cpu:.0f}",
                )  # fmt: skip
    return table


def run(levels: list[int], talk: float) -> Table:
    """Start the SIPp peer, run every level, stop the peer."""
    sipp = subprocess.Popen(
        ["sipp", "-sn", "uas", "-rtp_echo", "-i", "127.0.0.1", "-p", str(SIPP_PORT),
         "-mp", "38000", "-nostdin"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        time.sleep(1.0)
        return asyncio.run(main(levels, talk))
    finally:
        sipp.terminate()
        sipp.wait(10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,25,50,75,100,128")
    parser.add_argument("--talk", type=float, default=8.0)
    args = parser.parse_args()
    Console().print(run([int(x) for x in args.levels.split(",")], args.talk))
