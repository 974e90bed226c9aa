"""Wiring for ``callprobe agent``: a call engine (unless disabled) and the agent loop."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path

from api.cli.local_calls import probing
from api.settings import Settings
from probes.agent import Agent, AgentConfig, AgentStats
from probes.kinds.checks import CallRuntime


async def run_agent(
    settings: Settings,
    config: AgentConfig,
    *,
    with_calls: bool = True,
    stop: asyncio.Event | None = None,
) -> AgentStats:
    """Run the agent until SIGINT/SIGTERM (or ``stop``); calls need the engine's processes."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        if not with_calls:
            return await Agent(config).run(stop)
        async with probing(settings) as (engine, scorer):
            return await Agent(config, CallRuntime(engine=engine, scorer=scorer)).run(stop)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError):
                loop.remove_signal_handler(sig)


def default_spool(settings: Settings, location: str) -> Path:
    """Each location's agent spools under the data dir, apart from the CLI's spool."""
    return settings.data_dir / "agent-spool" / location
