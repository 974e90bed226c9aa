"""asyncio-facing call engine: N worker processes x 4 calls each.

The wheel caps a process at four calls, so capacity scales by processes. Workers
are fresh interpreters (``python -m probes.sip.worker``), so no pjsua2 state is
ever forked and, unlike multiprocessing's ``spawn``, they do not re-import the
parent's main module (with numpy, scipy and PESQ, that made starting 32 workers
on two cores take over 15 s). Each gets its own SIP port and RTP port range and
talks over a socket pair with pickled messages, watched with ``loop.add_reader``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

from media.codecs import get_codec
from probes.sip.spec import CallSpec, EngineError, RawCall
from probes.sip.worker import MAX_CALLS, WorkerConfig

log = logging.getLogger(__name__)

NARROWBAND_HZ = 8000
WIDEBAND_HZ = 16000
START_TIMEOUT_S = 20.0
START_TIMEOUT_PER_PROCESS_S = 1.0


@dataclass(frozen=True, kw_only=True, slots=True)
class EngineConfig:
    """How many worker processes and which ports they may use."""

    processes: int = 1
    """Narrowband workers: their conference bridge runs at 8 kHz."""
    wideband_processes: int = 1
    """Workers at 16 kHz, for wideband codecs (G.722) only: a 16 kHz bridge costs
    twice the CPU per call (measured: 2.0 % against 0.8 % of a core per PCMU call)."""
    bind_host: str = "127.0.0.1"
    sip_port_base: int = 5160
    rtp_port_base: int = 40000
    rtp_ports_per_worker: int = 200
    log_level: int = 1
    setup_rate: float = 50.0
    """Most call set-ups started per second. Measured here: 100 calls started in
    the same instant cost the busiest ones a jitter-buffer underrun (PESQ -0.35);
    paced at 50/s, 128 concurrent calls stayed within 0.07 of a lone call."""

    @property
    def total_processes(self) -> int:
        """Narrowband and wideband workers together."""
        return self.processes + self.wideband_processes

    def worker(self, index: int) -> WorkerConfig:
        """Worker ``index``: one SIP port, a private RTP range; wideband after narrowband."""
        return WorkerConfig(
            index=index,
            clock_rate=NARROWBAND_HZ if index < self.processes else WIDEBAND_HZ,
            bind_host=self.bind_host,
            sip_port=self.sip_port_base + index,
            rtp_port=self.rtp_port_base + index * self.rtp_ports_per_worker,
            rtp_port_range=self.rtp_ports_per_worker,
            log_level=self.log_level,
        )


@dataclass(kw_only=True)
class _WorkerHandle:
    config: WorkerConfig
    process: subprocess.Popen[bytes]
    conn: Connection
    ready: asyncio.Future[None]
    pending: dict[int, asyncio.Future[RawCall]] = field(default_factory=dict)

    def alive(self) -> bool:
        return self.process.poll() is None


class CallEngine:
    """Place calls concurrently; ``async with CallEngine(cfg) as engine``."""

    def __init__(self, config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig()
        self._workers: list[_WorkerHandle] = []
        self._ids = itertools.count(1)
        self._slots = {
            NARROWBAND_HZ: asyncio.Semaphore(self.config.processes * MAX_CALLS),
            WIDEBAND_HZ: asyncio.Semaphore(self.config.wideband_processes * MAX_CALLS),
        }
        self._next_setup = 0.0

    def worker_pids(self) -> list[int]:
        """Process ids of the running workers (for monitoring and benchmarks)."""
        return [w.process.pid for w in self._workers if w.alive()]

    async def __aenter__(self) -> CallEngine:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Start the workers and wait until each has its transports bound."""
        loop = asyncio.get_running_loop()
        for index in range(self.config.total_processes):
            handle = _launch(self.config.worker(index), loop.create_future())
            self._workers.append(handle)
            loop.add_reader(handle.conn.fileno(), self._on_readable, handle)
        timeout = START_TIMEOUT_S + START_TIMEOUT_PER_PROCESS_S * self.config.total_processes
        try:
            await asyncio.wait_for(asyncio.gather(*(w.ready for w in self._workers)), timeout)
        except (TimeoutError, EngineError) as exc:
            await self.close()
            raise EngineError(f"engine workers did not start: {exc or 'timed out'}") from exc

    async def place(self, spec: CallSpec) -> RawCall:
        """Run one call to completion; waits for a free slot first."""
        rate = WIDEBAND_HZ if get_codec(spec.codec).wideband else NARROWBAND_HZ
        self._live_workers(rate)
        async with self._slots[rate]:
            await self._pace()
            handle = min(self._live_workers(rate), key=lambda w: len(w.pending))
            job_id = next(self._ids)
            future: asyncio.Future[RawCall] = asyncio.get_running_loop().create_future()
            handle.pending[job_id] = future
            handle.conn.send(("call", job_id, spec))
            return await future

    async def _pace(self) -> None:
        """Space call set-ups ``1 / setup_rate`` apart."""
        loop = asyncio.get_running_loop()
        start = max(loop.time(), self._next_setup)
        self._next_setup = start + 1.0 / self.config.setup_rate
        await asyncio.sleep(start - loop.time())

    def _live_workers(self, rate: int) -> list[_WorkerHandle]:
        live = [w for w in self._workers if w.alive() and w.config.clock_rate == rate]
        if not live:
            raise EngineError(f"no engine worker at {rate} Hz is running")
        return live

    def _on_readable(self, handle: _WorkerHandle) -> None:
        try:
            while handle.conn.poll():
                kind, job_id, raw = handle.conn.recv()
                if kind == "ready":
                    handle.ready.set_result(None)
                    continue
                future = handle.pending.pop(job_id, None)
                if future is not None and not future.done():
                    future.set_result(raw)
        except (EOFError, OSError):
            self._worker_lost(handle)

    def _worker_lost(self, handle: _WorkerHandle) -> None:
        asyncio.get_running_loop().remove_reader(handle.conn.fileno())
        if not handle.ready.done():
            cfg = handle.config
            handle.ready.set_exception(
                EngineError(
                    f"worker {cfg.index} exited: is SIP port {cfg.sip_port} on "
                    f"{cfg.bind_host} already in use?"
                )
            )
            return
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
            loop.remove_reader(handle.conn.fileno())
            if handle.alive():
                with contextlib.suppress(OSError):
                    handle.conn.send(("stop",))
        for handle in self._workers:
            try:
                await asyncio.to_thread(handle.process.wait, 10)
            except subprocess.TimeoutExpired:
                handle.process.kill()
                await asyncio.to_thread(handle.process.wait)
            handle.conn.close()
        self._workers.clear()


def _launch(config: WorkerConfig, ready: asyncio.Future[None]) -> _WorkerHandle:
    """Start one worker interpreter connected by a socket pair; send it its config."""
    parent, child = socket.socketpair()
    with child:
        process = subprocess.Popen(
            [sys.executable, "-m", "probes.sip.worker", str(child.fileno())],
            pass_fds=[child.fileno()],
            stdin=subprocess.DEVNULL,
        )
    conn = Connection(parent.detach())
    conn.send(config)
    return _WorkerHandle(config=config, process=process, conn=conn, ready=ready)
