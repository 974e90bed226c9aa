"""Wiring for the CLI: engine + scoring pool + storage, and the local scheduled run."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from api.cli.table import result_table
from api.services.local_results import drain_spool, store_or_spool
from api.settings import Settings
from peers.impairment.cli import main as relay_main
from peers.reflector import ReflectorConfig
from peers.reflector import run as reflector_run
from probes.call_probe import CallRequest, InvalidCallRequest, invalid_result, run_call
from probes.result import CallResult
from probes.scoring import scoring_pool
from probes.sip.engine import CallEngine, EngineConfig
from probes.spool import Spool
from store import cluster
from store.migrate import migrate_database

log = logging.getLogger(__name__)
console = Console()

render = result_table
LOCAL_REFLECTOR_PORT = 5080


def storage_url(settings: Settings) -> str | None:
    """Where a call's result is stored: the configured database, else the embedded cluster
    when it runs; None (store nothing) when neither is there."""
    if settings.database_url or cluster.status(settings.pg_root).running:
        return settings.resolved_database_url
    return None


@asynccontextmanager
async def probing(
    settings: Settings, processes: int | None = None
) -> AsyncIterator[tuple[CallEngine, ProcessPoolExecutor]]:
    """An engine and a scoring pool (separate processes: scoring must not stall live calls)."""
    config = EngineConfig(
        processes=processes or settings.engine_processes,
        wideband_processes=settings.wideband_processes,
        bind_host=settings.sip_bind,
        sip_port_base=settings.sip_port_base,
        rtp_port_base=settings.rtp_port_base,
        setup_rate=settings.setup_rate,
    )
    async with AsyncExitStack() as stack:
        engine = await stack.enter_async_context(CallEngine(config))
        scorer = stack.enter_context(scoring_pool(settings.scoring_processes))
        yield engine, scorer


async def save(settings: Settings, results: list[CallResult]) -> str | None:
    """Store results (or spool them when the database is away); returns a note for the user."""
    url = storage_url(settings)
    if url is None:
        return None
    spool = Spool(settings.spool_dir)
    await drain_spool(url, spool)
    report = await store_or_spool(url, results, spool)
    return str(report)


async def call_once(
    settings: Settings, request: CallRequest, *, store: bool
) -> tuple[CallResult, str | None]:
    """Place one call; bad input raises InvalidCallRequest before anything starts."""
    async with probing(settings) as (engine, scorer):
        result = await run_call(engine, scorer, request)
    note = await save(settings, [result]) if store else None
    return result, note


def run_reflector(host: str, port: int, rtp_port: int, prompt: Path | None) -> None:
    """Serve the reflector in this process until interrupted."""
    reflector_run(ReflectorConfig(host=host, port=port, rtp_port=rtp_port, prompt=prompt))


def run_relay(argv: list[str]) -> None:
    """Run the impairment relay in this process until interrupted."""
    raise SystemExit(relay_main(argv))


def _start_reflector(port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "api", "reflector", "--port", str(port)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL)


async def run_schedule(
    settings: Settings, target: str | None, template: CallRequest, interval: float, count: int
) -> None:
    """Database + reflector + a call probe on a schedule; prints and stores each result.

    ``target`` None starts a local reflector and calls it; ``template`` gives the
    rest of the call's settings.
    """
    url = settings.database_url or cluster.start(settings.pg_root, settings.db_port)
    migrate_database(url)
    reflector = None if target else _start_reflector(LOCAL_REFLECTOR_PORT)
    request = replace(template, target=target or f"sip:echo@127.0.0.1:{LOCAL_REFLECTOR_PORT}")
    console.print(f"database: {url.split('@')[-1]}  target: {request.target}")
    try:
        await _loop(settings, request, interval, count)
    finally:
        if reflector is not None:
            reflector.terminate()
            reflector.wait(10)


async def _loop(settings: Settings, request: CallRequest, interval: float, count: int) -> None:
    done = 0
    async with probing(settings) as (engine, scorer):
        while count == 0 or done < count:
            started = asyncio.get_running_loop().time()
            try:
                result = await run_call(engine, scorer, request)
            except InvalidCallRequest as exc:
                result = invalid_result(request, str(exc))
            note = await save(settings, [result])
            console.print(_summary(result) + (f"  ({note})" if note else ""))
            done += 1
            if count == 0 or done < count:
                await asyncio.sleep(
                    max(0.0, interval - (asyncio.get_running_loop().time() - started))
                )


def _summary(result: CallResult) -> str:
    """One line per call for the scheduled run."""
    fields = {
        "PESQ": result.pesq_mos, "E-model": result.emodel_mos, "loss %": result.rx_loss_pct,
        "jitter ms": result.jitter_ms, "rtt ms": result.rtt_ms, "setup ms": result.setup_ms,
    }  # fmt: skip
    shown = "  ".join(f"{k} {v:.2f}" for k, v in fields.items() if v is not None)
    error = f"  [red]{result.error}[/red]" if result.error else ""
    return f"{result.started_at:%H:%M:%S}  {result.outcome.value:<8} {shown}{error}"
