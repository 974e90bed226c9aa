"""The agent: lease due runs from the API, run them with bounded concurrency, post results.

It holds no database credentials, only an agent token, and talks to the API
over HTTPS (plain HTTP only to a loopback address, or when explicitly allowed),
so the token and the probes' secrets never cross a network in clear text.
Results are posted in batches; when the API cannot take them (unreachable,
5xx) they go to a durable spool and are replayed, oldest first, once the API
answers again. Runs are idempotent by ``run_id`` on the API side, so a replay
after a lost answer is harmless. A result the API refuses for good (not this agent's run, dated
outside its lease) is set aside in the spool's ``rejected/`` folder with the
reason, never replayed. A run's secret is scrubbed from its result before the
result is posted or spooled, so no spool file holds a secret. Stop it by setting
the ``stop`` event: it stops leasing, finishes the runs in hand (up to
``drain_timeout_s``), hands back to the API the runs it could not finish (another
agent of the location leases them at once instead of after their lease), then posts or
spools what it has and tries the spool once more.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import uuid
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from probes.contract import (
    IngestReport,
    Lease,
    LeasedRun,
    LeaseRequest,
    ReleaseReport,
    ReleaseRequest,
    ResultBatch,
)
from probes.kinds.checks import CallRuntime, CheckSpec, run_check
from probes.kinds.options import parse_options
from probes.result import CallResult
from probes.spool import Spool

log = logging.getLogger(__name__)

REDACTED = "[redacted]"
VERSION = metadata.version("callprobe")
"""What the agent reports of itself when it leases."""
_IDENTITY = frozenset({"run_id", "started_at", "outcome", "probe_id", "kind", "transport", "codec"})
"""Fields the agent sets from fixed vocabularies: never scrubbed, however short a secret."""


class AgentRejected(RuntimeError):
    """The API refused the agent itself (bad token, wrong location): retrying cannot help."""


class InsecureApiUrl(ValueError):
    """The API URL would send the agent's token and the probes' secrets in clear text."""


def check_api_url(url: str, *, allow_insecure_http: bool = False) -> None:
    """Pass for an https:// URL, or http:// to a loopback host (or with the override).

    Raises :class:`InsecureApiUrl` saying why otherwise.
    """
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme != "http" or not parts.hostname:
        raise InsecureApiUrl(f"the API URL must be https://host[:port], not {url!r}")
    if not (allow_insecure_http or _loopback(parts.hostname)):
        raise InsecureApiUrl(
            f"refusing plain-HTTP API URL {url!r}: the agent token and SIP passwords would"
            " cross the network in clear text; use https:// (or --allow-insecure-http on a"
            " network you trust)"
        )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, kw_only=True, slots=True)
class AgentConfig:
    """How an agent reaches its API and how much it runs at once."""

    api: str
    token: str = field(repr=False)
    location: str
    spool_dir: Path
    concurrency: int = 16
    batch_size: int = 200
    post_every_s: float = 1.0
    idle_poll_s: float = 1.0
    max_backoff_s: float = 15.0
    http_timeout_s: float = 10.0
    drain_timeout_s: float = 30.0
    allow_insecure_http: bool = False


@dataclass(kw_only=True, slots=True)
class AgentStats:
    """Counters for logs and tests."""

    leased: int = 0
    executed: int = 0
    posted: int = 0
    spooled: int = 0
    replayed: int = 0
    refused: int = 0
    released: int = 0


class Agent:
    """One location's worker; see the module docstring."""

    def __init__(self, config: AgentConfig, runtime: CallRuntime | None = None) -> None:
        check_api_url(config.api, allow_insecure_http=config.allow_insecure_http)
        self.config = config
        self.runtime = runtime
        self.stats = AgentStats()
        self.spool = Spool(config.spool_dir)
        self._backlog = sum(1 for _ in config.spool_dir.glob("*.json"))
        self._slots = asyncio.Semaphore(config.concurrency)
        self._in_hand: dict[asyncio.Task[None], uuid.UUID] = {}
        self._outbox: list[CallResult] = []
        self._client = httpx.AsyncClient(
            base_url=config.api.rstrip("/"),
            headers={"Authorization": f"Bearer {config.token}"},
            timeout=config.http_timeout_s,
        )

    async def run(self, stop: asyncio.Event) -> AgentStats:
        """Lease and post until ``stop`` is set; then drain and return the counters."""
        closing = asyncio.Event()
        poster = asyncio.create_task(self._post_loop(stop, closing))
        try:
            await self._lease_loop(stop)
        finally:
            await self._drain()
            closing.set()
            await poster
            await self._flush()
            await self._replay()
            await self._client.aclose()
        return self.stats

    async def _lease_loop(self, stop: asyncio.Event) -> None:
        backoff = self.config.idle_poll_s
        while not stop.is_set():
            free = self.config.concurrency - len(self._in_hand)
            try:
                lease = await self._lease(free) if free > 0 else None
            except httpx.HTTPError as exc:
                log.warning("lease failed: %s", exc)
                backoff = min(backoff * 2, self.config.max_backoff_s)
                await _sleep(stop, backoff)
                continue
            backoff = self.config.idle_poll_s
            if lease is not None:
                for run in lease.runs:
                    self._start(run)
            if lease is None or not lease.runs:
                wait = self.config.idle_poll_s if lease is None else lease.poll_after_s
                await _sleep(stop, min(wait, self.config.idle_poll_s))

    async def _lease(self, max_runs: int) -> Lease:
        request = LeaseRequest(
            location=self.config.location,
            max_runs=max_runs,
            agent_version=VERSION,
            spool_backlog=self._backlog,
        )
        response = await self._client.post("/v1/agent/lease", json=request.model_dump())
        _raise_for_agent(response)
        lease = Lease.model_validate_json(response.content)
        self.stats.leased += len(lease.runs)
        return lease

    def _start(self, run: LeasedRun) -> None:
        task = asyncio.create_task(self._execute(run))
        self._in_hand[task] = run.run_id
        task.add_done_callback(self._in_hand.pop)

    async def _execute(self, run: LeasedRun) -> None:
        async with self._slots:
            spec = CheckSpec(
                run_id=run.run_id,
                probe_id=run.probe_id,
                probe_name=run.probe_name,
                kind=run.kind,
                target=run.target,
                timeout_s=run.timeout_s,
                options=parse_options(run.kind, run.options),
                secret=run.secret,
                location=self.config.location,
            )
            result = redacted(await run_check(spec, self.runtime), run.secret)
        self.stats.executed += 1
        self._outbox.append(result)

    async def _post_loop(self, stop: asyncio.Event, closing: asyncio.Event) -> None:
        """Post (or spool) finished results every ``post_every_s``, replaying the spool when
        idle; ends between passes once ``closing`` is set. Never cancelled mid-pass: a batch
        taken from the outbox would then be neither posted nor spooled."""
        while not closing.is_set():
            await _sleep(closing, self.config.post_every_s)
            await self._flush()
            if not self._outbox and not stop.is_set():
                await self._replay()

    async def _flush(self) -> None:
        while self._outbox:
            batch = self._outbox[: self.config.batch_size]
            del self._outbox[: len(batch)]
            report = await self._post(batch)
            if report is None:
                spooled = await asyncio.to_thread(self.spool.spool_all, batch)
                self.stats.spooled += spooled
                self._backlog += spooled
            else:
                await self._set_aside(batch, report)

    async def _replay(self) -> None:
        pending = await asyncio.to_thread(self.spool.pending)
        self._backlog = len(pending)
        for start in range(0, len(pending), self.config.batch_size):
            batch = pending[start : start + self.config.batch_size]
            report = await self._post(batch)
            if report is None:
                return
            await self._set_aside(batch, report)
            await asyncio.to_thread(self.spool.acknowledge, [r.run_id for r in batch])
            self.stats.replayed += len(batch)
            self._backlog -= len(batch)

    async def _post(self, batch: list[CallResult]) -> IngestReport | None:
        """Deliver a batch; None when the API could not take it (keep it)."""
        body = ResultBatch(results=[r.to_json() for r in batch])
        try:
            response = await self._client.post("/v1/agent/results", json=body.model_dump())
        except httpx.HTTPError as exc:
            log.warning("posting results failed: %s", exc)
            return None
        if response.status_code >= 500:
            log.warning("API answered %s to results", response.status_code)
            return None
        _raise_for_agent(response)
        self.stats.posted += len(batch)
        return IngestReport.model_validate_json(response.content)

    async def _set_aside(self, batch: list[CallResult], report: IngestReport) -> None:
        """Keep what the API refused for good in the spool's ``rejected/`` folder."""
        for problem in report.rejected:
            log.error("result refused: %s", problem)
        refused = [(batch[r.index], r.reason) for r in report.refused if 0 <= r.index < len(batch)]
        if refused:
            await asyncio.to_thread(self.spool.set_aside, refused)
            self.stats.refused += len(refused)

    async def _drain(self) -> None:
        """Let the runs in hand finish; cancel and hand back those still running after
        ``drain_timeout_s``."""
        if self._in_hand:
            await asyncio.wait(set(self._in_hand), timeout=self.config.drain_timeout_s)
        unfinished = dict(self._in_hand)
        for task in unfinished:
            task.cancel()
        await asyncio.gather(*unfinished, return_exceptions=True)
        await self._release([run for task, run in unfinished.items() if task.cancelled()])

    async def _release(self, run_ids: list[uuid.UUID]) -> None:
        """Hand runs back; if the API cannot hear it, their leases expire by themselves."""
        for start in range(0, len(run_ids), self.config.batch_size):
            body = ReleaseRequest(run_ids=run_ids[start : start + self.config.batch_size])
            try:
                response = await self._client.post(
                    "/v1/agent/release", json=body.model_dump(mode="json")
                )
                response.raise_for_status()
            except httpx.HTTPError as exc:
                log.warning("handing back %d runs failed: %s", len(body.run_ids), exc)
                return
            self.stats.released += ReleaseReport.model_validate_json(response.content).released


def redacted(result: CallResult, secret: str | None) -> CallResult:
    """``result`` with every occurrence of ``secret`` in its text replaced by [redacted]."""
    if not secret:
        return result
    data = result.to_json()
    cleaned = {
        name: value if name in _IDENTITY else _scrub(value, secret) for name, value in data.items()
    }
    return result if cleaned == data else CallResult.from_json(cleaned)


def _scrub(value: Any, secret: str) -> Any:
    if isinstance(value, str):
        return value.replace(secret, REDACTED)
    if isinstance(value, dict):
        return {key: _scrub(item, secret) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub(item, secret) for item in value]
    return value


def _raise_for_agent(response: httpx.Response) -> None:
    if response.status_code in (401, 403, 409):
        raise AgentRejected(f"API refused this agent ({response.status_code}): {response.text}")
    if response.status_code >= 500:
        raise httpx.HTTPStatusError(
            f"API error {response.status_code}", request=response.request, response=response
        )
    response.raise_for_status()


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
