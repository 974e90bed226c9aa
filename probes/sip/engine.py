"""asyncio-facing call engine: N worker processes x 4 calls each.

The wheel caps a process at four calls, so capacity scales by processes. Workers
are started with the ``spawn`` method so no pjsua2 state is ever forked, and
each gets its own SIP port and RTP port range. Results come back over one pipe
per worker, watched with ``loop.add_reader`` so no thread is needed here.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import multiprocessing
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from probes.sip.spec import CallSpec, RawCall
from probes.sip.worker import MAX_CALLS, WorkerConfig, serve

log = logging.getLogger(__name__)

START_TIMEOUT_S = 15.0


class EngineError(RuntimeError):
    """The engine could not start or lost a worker."""


@dataclass(frozen=True, kw_only=True, slots=True)
class EngineConfig:
    """How many worker processes and which ports they may use."""

    processes: int = 1
    bind_host: str = "127.0.0.1"
    sip_port_base: int = 5160
    rtp_port_base: int = 40000
    rtp_ports_per_worker: int = 200
    log_level: int = 1

    def worker(self, index: int) -> WorkerConfig:
        """The ports of worker ``index`` (one SIP port, a private RTP range)."""
        return WorkerConfig(
            index=index,
            bind_host=self.bind_host,
            sip_port=self.sip_port_base + index,
            rtp_port=self.rtp_port_base + index * self.rtp_ports_per_worker,
            rtp_port_range=self.rtp_ports_per_worker,
            log_level=self.log_level,
        )


@dataclass(kw_only=True)
class _WorkerHandle:
    config: WorkerConfig
    process: BaseProcess
    conn: Connection
    pending: dict[int, asyncio.Future[RawCall]]


class CallEngine:
    """Place calls concurrently; ``async with CallEngine(cfg) as engine``."""

    def __init__(self, config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig()
        self._workers: list[_WorkerHandle] = []
        self._ids = itertools.count(1)
        self._slots = asyncio.Semaphore(self.capacity)

    @property
    def capacity(self) -> int:
        """Simultaneous calls this engine can carry."""
        return self.config.processes * MAX_CALLS

    async def __aenter__(self) -> CallEngine:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Spawn the workers and wait until each has its transports bound."""
        ctx = multiprocessing.get_context("spawn")
        for index in range(self.config.processes):
            parent, child = ctx.Pipe()
            cfg = self.config.worker(index)
            proc = ctx.Process(target=serve, args=(child, cfg), daemon=True, name=f"engine-{index}")
            proc.start()
            child.close()
            self._workers.append(_WorkerHandle(config=cfg, process=proc, conn=parent, pending={}))
        await asyncio.gather(*(self._await_ready(w) for w in self._workers))
        loop = asyncio.get_running_loop()
        for handle in self._workers:
            loop.add_reader(handle.conn.fileno(), self._on_readable, handle)

    async def _await_ready(self, handle: _WorkerHandle) -> None:
        ready = await asyncio.to_thread(handle.conn.poll, START_TIMEOUT_S)
        if not ready:
            await self.close()
            raise EngineError(f"engine worker {handle.config.index} did not start")
        try:
            handle.conn.recv()
        except EOFError as exc:
            await self.close()
            raise EngineError(
                f"engine worker {handle.config.index} died at start: is SIP port "
                f"{handle.config.sip_port} on {handle.config.bind_host} already in use?"
            ) from exc

    async def place(self, spec: CallSpec) -> RawCall:
        """Run one call to completion; waits for a free slot first."""
        async with self._slots:
            handle = min(self._live_workers(), key=lambda w: len(w.pending))
            job_id = next(self._ids)
            future: asyncio.Future[RawCall] = asyncio.get_running_loop().create_future()
            handle.pending[job_id] = future
            handle.conn.send(("call", job_id, spec))
            return await future

    def _live_workers(self) -> list[_WorkerHandle]:
        live = [w for w in self._workers if w.process.is_alive()]
        if not live:
            raise EngineError("no engine worker is running")
        return live

    def _on_readable(self, handle: _WorkerHandle) -> None:
        try:
            while handle.conn.poll():
                _, job_id, raw = handle.conn.recv()
                future = handle.pending.pop(job_id, None)
                if future is not None and not future.done():
                    future.set_result(raw)
        except (EOFError, OSError):
            self._worker_lost(handle)

    def _worker_lost(self, handle: _WorkerHandle) -> None:
        asyncio.get_running_loop().remove_reader(handle.conn.fileno())
        log.error("engine worker died", extra={"worker": handle.config.index})
        lost = RawCall(sip_status=None, sip_reason=None, error="engine worker process died")
        for future in handle.pending.values():
            if not future.done():
                future.set_result(lost)
        handle.pending.clear()

    async def close(self) -> None:
        """Ask workers to hang up and exit; kill those that do not."""
        loop = asyncio.get_running_loop()
        for handle in self._workers:
            if handle.process.is_alive():
                loop.remove_reader(handle.conn.fileno())
                with contextlib.suppress(OSError):
                    handle.conn.send(("stop",))
        for handle in self._workers:
            await asyncio.to_thread(handle.process.join, 10)
            if handle.process.is_alive():
                handle.process.kill()
            handle.conn.close()
        self._workers.clear()
