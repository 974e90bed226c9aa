"""Notification delivery: throughput and latency of 1,000 transitions fanned out to 3 channels.

On a throw-away cluster (.var/pg-bench-notify), one project has ``--transitions`` probes
and three channels: a webhook, PagerDuty and Pushover (their ``url`` pointed at three
loopback receivers in this process). ``--servers`` ``callprobe serve`` processes run the
dispatcher with the default settings (only the secret key and the loopback allow-list
are set). Every probe then goes unhealthy through ``record_transition``, 25 probes a
transaction (judging's chunk), and the bench waits until every receiver has taken in
every notice. Latency is from the commit of a probe's transition to a notice's arrival
at its receiver; the first copy counts, and repeats (same idempotency key) are counted.

    .venv/bin/python -m bench.notify_delivery
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

from api.services.notifications import seal
from api.settings import Settings
from bench import platform_harness as harness
from notify.channels.webhook import new_signing_secret
from store import channels, cluster, deliveries, pool, projects, transitions
from store.pool import transaction
from store.probes import ProbeFields, create_probe
from thresholds.transitions import Transition

PORT = 25445
API_PORT = 18296
CHUNK = 25
"""Transitions per transaction, as judging writes them."""
KINDS = ("webhook", "pagerduty", "pushover")


@dataclass
class Inbox:
    """What one receiver took in: idempotency key -> arrival times (wall clock)."""

    arrivals: dict[str, list[float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self) -> int:
        with self.lock:
            return len(self.arrivals)


def _handler(inbox: Inbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            at = time.time()
            self.rfile.read(int(self.headers.get("content-length", "0")))
            with inbox.lock:
                inbox.arrivals.setdefault(self.headers["idempotency-key"], []).append(at)
            self.send_response(202)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    """Set before ``listen``: the default backlog of 5 drops the SYNs of a burst of
    connections, and each dropped one costs its sender a 1 s retransmission."""


@contextlib.contextmanager
def receiving() -> Iterator[tuple[Inbox, str]]:
    """A loopback receiver and its URL, served from threads until the block ends."""
    inbox = Inbox()
    server = _Server(("127.0.0.1", 0), _handler(inbox))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield inbox, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _secrets(kind: str) -> dict[str, Any]:
    if kind == "webhook":
        return {"signing_secrets": [new_signing_secret()]}
    if kind == "pagerduty":
        return {"routing_key": "R" * 32}
    return {"token": "a" * 30, "user_key": "u" * 30}


async def _seed(
    url: str, settings: Settings, probes: int, urls: list[str]
) -> tuple[uuid.UUID, list[uuid.UUID], list[uuid.UUID]]:
    """The project, its probes and its three channels."""
    async with transaction(url) as conn:
        project = (await projects.create_project(conn, "notify bench")).id
        probe_ids = [
            (await create_probe(conn, project, _probe(n), location_ids=[])).id
            for n in range(probes)
        ]
        channel_ids = [
            (
                await channels.create_channel(
                    conn, project, name=kind, kind=kind, config={"url": target},
                    secret=seal(settings, _secrets(kind)), rules={},
                )
            ).id
            for kind, target in zip(KINDS, urls, strict=True)
        ]  # fmt: skip
    return project, probe_ids, channel_ids


def _probe(n: int) -> ProbeFields:
    return ProbeFields(
        name=f"trunk {n}", kind="tcp", target="127.0.0.1:9", replicas=[], interval_s=60,
        timeout_s=5, enabled=True, options={}, policy={}, tags=[],
    )  # fmt: skip


async def _record(url: str, project: uuid.UUID, probes: list[uuid.UUID]) -> dict[str, float]:
    """Every probe goes unhealthy, ``CHUNK`` a transaction; commit time per probe."""
    committed: dict[str, float] = {}
    change = Transition(
        at=datetime.now(UTC), from_state="healthy", to_state="unhealthy", cause="bench", reasons=[]
    )
    async with pool.create_pool(url, max_size=1) as shared:
        for start in range(0, len(probes), CHUNK):
            chunk = probes[start : start + CHUNK]
            async with transaction(shared) as conn:
                for probe in chunk:
                    await transitions.record_transition(
                        conn, project_id=project, probe_id=probe, transition=change
                    )
            done = time.time()
            committed.update((str(probe), done) for probe in chunk)
    return committed


async def _order_keys(url: str, project: uuid.UUID, channel_ids: list[uuid.UUID]) -> dict[str, str]:
    """Idempotency key -> the probe it is about, from the delivery log."""
    async with transaction(url) as conn:
        rows = [
            row
            for channel in channel_ids
            for row in await deliveries.list_deliveries(
                conn, project, channel, state=None, before=None, limit=100_000
            )
        ]
    return {f"msg_{row.id.hex}": row.order_key for row in rows}


def _wait_all(inboxes: list[Inbox], expected: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while sum(inbox.count() for inbox in inboxes) < expected:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _peak_rss_mib(pid: int) -> float:
    """A live process's peak resident set (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass(frozen=True)
class Findings:
    expected: int
    accepted: int
    repeats: int
    record_s: float
    all_in_s: float
    after_last_commit_s: float
    latencies: list[float]
    server_rss_mib: list[float]


def _run(url: str, args: argparse.Namespace, tmp: Path) -> Findings:
    key = Fernet.generate_key().decode()
    settings = Settings(secret_key=SecretStr(key))
    environ = harness.env(
        url, tmp, CALLPROBE_SECRET_KEY=key, CALLPROBE_NOTIFY_ALLOW_NETWORKS="127.0.0.0/8",
        CALLPROBE_SWEEP_INTERVAL_S="3600",
    )  # fmt: skip
    with contextlib.ExitStack() as stack:
        received = [stack.enter_context(receiving()) for _ in KINDS]
        inboxes = [inbox for inbox, _ in received]
        project, probes, channel_ids = asyncio.run(
            _seed(url, settings, args.transitions, [target for _, target in received])
        )
        servers = [harness.serve(API_PORT + n, environ) for n in range(args.servers)]
        try:
            committed = asyncio.run(_record(url, project, probes))
            expected = len(probes) * len(KINDS)
            _wait_all(inboxes, expected, args.timeout)
            rss = [_peak_rss_mib(server.pid) for server in servers]
        finally:
            for server in servers:
                harness.stop(server)
        owners = asyncio.run(_order_keys(url, project, channel_ids))
    firsts = {k: min(times) for inbox in inboxes for k, times in inbox.arrivals.items()}
    latencies = sorted(at - committed[owners[k]] for k, at in firsts.items())
    first_commit, last_commit = min(committed.values()), max(committed.values())
    last_in = max(firsts.values())
    return Findings(
        expected=expected,
        accepted=len(firsts),
        repeats=sum(len(t) - 1 for inbox in inboxes for t in inbox.arrivals.values()),
        record_s=last_commit - first_commit,
        all_in_s=last_in - first_commit,
        after_last_commit_s=last_in - last_commit,
        latencies=latencies,
        server_rss_mib=rss,
    )


def main(args: argparse.Namespace) -> Table:
    """Run the benchmark on a fresh cluster and return its table."""
    root, url = harness.fresh_cluster("pg-bench-notify", args.port)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            found = _run(url, args, Path(tmp))
    finally:
        cluster.stop(root)
    table = Table(
        title=f"{args.transitions} transitions x {len(KINDS)} channels, "
        f"{args.servers} callprobe serve process(es), default notify settings"
    )
    columns = (
        *("deliveries", "accepted", "repeats", "recording", "all accepted after"),
        *("after last commit", "deliveries/s", "p50 ms", "p99 ms", "max ms"),
        *("serve peak RSS", "bench peak RSS"),
    )
    for column in columns:
        table.add_column(column, justify="right")
    lat = found.latencies
    table.add_row(
        str(found.expected),
        str(found.accepted),
        str(found.repeats),
        f"{found.record_s:.2f} s",
        f"{found.all_in_s:.2f} s",
        f"{found.after_last_commit_s:.2f} s",
        f"{found.accepted / found.all_in_s:,.0f}",
        f"{statistics.median(lat) * 1000:.0f}",
        f"{lat[int(0.99 * (len(lat) - 1))] * 1000:.0f}",
        f"{lat[-1] * 1000:.0f}",
        " + ".join(f"{mib:.0f}" for mib in found.server_rss_mib) + " MiB",
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB",
    )
    return table


def parser() -> argparse.ArgumentParser:
    """Command-line options (defaults: the issue's 1,000 transitions, one API process)."""
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--transitions", type=int, default=1000, help="probes, one change each")
    options.add_argument("--servers", type=int, default=1, help="callprobe serve processes")
    options.add_argument("--port", type=int, default=PORT, help="the throw-away cluster's port")
    options.add_argument("--timeout", type=float, default=120.0, help="give up after (s)")
    return options


if __name__ == "__main__":
    Console(width=200).print(main(parser().parse_args()))
