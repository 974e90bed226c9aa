"""Backup and restore of the callprobe database, tried for real on a cluster of its own.

``pg_dump -Fc`` of a seeded database, a fresh database with TimescaleDB, then
``timescaledb_pre_restore()``, ``pg_restore``, ``timescaledb_post_restore()`` and
``ANALYZE``; prints each step's command, time and size, and checks that the restored
database holds the same rows in every table and serves the same status page
(Statuspage JSON and bars built at the same instant). docs/operations.md quotes it.

    .venv/bin/python -m bench.backup_restore [--probes 20] [--days 14] [--every-min 5]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from fastapi.testclient import TestClient
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

from api.app import create_app
from api.settings import Settings
from probes.result import CallResult
from probes.result import Outcome as Status
from statuspages import load, statuspage_json
from store import cluster, migrate, pool
from store.results import record_results
from store.transitions import record_transition
from thresholds.transitions import Transition

ROOT_NAME = "pg-backup"
PORT = 25462
ADMIN = "admin-backup-bench-0123456789abcdef"
SOURCE = "callprobe_source"
RESTORED = "callprobe_restored"


def seed(url: str, data_dir: Path, probes: int, days: int, every_min: int) -> tuple[str, int]:
    """A project with ``probes`` TCP probes on one page and a result every ``every_min``
    minutes for ``days`` days each (through the API and the store): the page's slug and
    the number of results."""
    settings = Settings(database_url=url, admin_token=SecretStr(ADMIN), data_dir=data_dir)
    with TestClient(create_app(settings)) as client:
        made = client.post(
            "/v1/projects", json={"name": "backup"}, headers={"Authorization": f"Bearer {ADMIN}"}
        ).json()
        key = {"Authorization": f"Bearer {made['key']['token']}"}
        client.post("/v1/locations", json={"name": "ams"}, headers=key).raise_for_status()
        ids = [
            client.post(
                "/v1/probes",
                json={"name": f"trunk {n}", "kind": "tcp", "target": "h:1", "locations": ["ams"]},
                headers=key,
            ).json()["id"]
            for n in range(probes)
        ]
        slug = f"backup-{uuid.uuid4().hex[:6]}"
        components = [{"probe_id": probe, "name": f"Trunk {n}"} for n, probe in enumerate(ids)]
        page = {"name": "Voice", "slug": slug, "components": components}
        client.post("/v1/pages", json=page, headers=key).raise_for_status()
    count = asyncio.run(_results(url, made["project"]["id"], ids, days, every_min))
    return slug, count


async def _results(url: str, project: str, probe_ids: list[str], days: int, every_min: int) -> int:
    now = datetime.now(UTC)
    total = 0
    for probe in map(uuid.UUID, probe_ids):
        batch = [_result(probe, now - timedelta(minutes=every_min * k), k) for k in
                 range(days * 24 * 60 // every_min)]  # fmt: skip
        async with pool.transaction(url) as conn:
            total += len(await record_results(conn, batch, uuid.UUID(project)))
            for hours_ago, before, after in HISTORY:
                at = now - timedelta(hours=hours_ago)
                change = Transition(at=at, from_state=before, to_state=after, reasons=[], cause="")
                await record_transition(
                    conn, project_id=uuid.UUID(project), probe_id=probe, transition=change
                )
    return total


def _result(probe: uuid.UUID, at: datetime, k: int) -> CallResult:
    """A TCP check result of ``probe`` (one in 97 fails)."""
    outcome = Status.OK if k % 97 else Status.FAILED
    return CallResult(
        probe="trunk", target="h:1", kind="tcp", probe_id=probe, location="ams", started_at=at,
        outcome=outcome, latency_ms=10.0 + k % 7,
    )  # fmt: skip


HISTORY = ((50, "unknown", "healthy"), (30, "healthy", "unhealthy"), (29, "unhealthy", "healthy"))
"""Health transitions of every probe (hours ago, from, to): an incident a day ago."""


@dataclass
class Outcome:
    """What one backup and restore did and found."""

    steps: list[tuple[str, str, float]] = field(default_factory=list)
    database_bytes: int = 0
    dump_bytes: int = 0
    same_rows: bool = False
    same_page: bool = False

    def timed(self, label: str, shown: str, command: list[str]) -> None:
        """Run ``command`` (failing loudly) and note how long it took under ``label``."""
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, text=True)
        self.steps.append((label, shown, time.perf_counter() - started))


def as_superuser(root: Path, *args: str) -> list[str]:
    """``args`` (a PostgreSQL client) run as the cluster's superuser over its socket."""
    socket = ["-h", str(root / "socket"), "-p", str(PORT)]
    return ["runuser", "-u", cluster.SERVER_USER, "--", *args, *socket]


def counts(url: str) -> dict[str, int]:
    """Rows of every table of the public schema."""
    with psycopg.connect(url) as conn:
        listed = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = sorted(row[0] for row in listed)
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0] for t in tables}


async def shown(url: str, slug: str, now: datetime) -> Any:
    """The page's Statuspage summary JSON and its bars as of ``now``."""
    async with pool.transaction(url) as conn:
        view = await load.published_view(conn, slug, now)
    bars = [(c.bar, c.uptime) for c in view.components]
    return statuspage_json.document(view, "summary", "https://status.example"), bars


def backup_and_restore(root: Path, url: str, dump: Path, outcome: Outcome) -> str:
    """Dump the database at ``url`` and restore it into a fresh one; the copy's URL."""
    bin_ = cluster.PG_BIN
    dump_cmd = [str(bin_ / "pg_dump"), "-Fc", "-f", str(dump), url]
    outcome.timed("pg_dump", f'pg_dump -Fc -f {dump.name} "$URL"', dump_cmd)
    dump.chmod(0o644)  # pg_restore runs as the server's user
    started = time.perf_counter()
    restored_url = cluster.create_database(root, RESTORED)
    outcome.steps.append(("create", f"CREATE DATABASE {RESTORED}; CREATE EXTENSION timescaledb;",
                          time.perf_counter() - started))  # fmt: skip
    psql = [str(bin_ / "psql"), "-X", "-v", "ON_ERROR_STOP=1", "-d", RESTORED, "-c"]
    pre, post = "SELECT timescaledb_pre_restore();", "SELECT timescaledb_post_restore();"
    outcome.timed("pre_restore", pre, as_superuser(root, *psql, pre))
    restore = [str(bin_ / "pg_restore"), "-d", RESTORED, str(dump)]
    outcome.timed(
        "pg_restore", f"pg_restore -d {RESTORED} {dump.name}", as_superuser(root, *restore)
    )
    outcome.timed("post_restore", post, as_superuser(root, *psql, post))
    outcome.timed("analyze", "ANALYZE;", as_superuser(root, *psql, "ANALYZE;"))
    outcome.dump_bytes = dump.stat().st_size
    return restored_url


def run(probes: int, days: int, every_min: int) -> Outcome:
    """Seed a fresh database in a cluster of its own, back it up, restore it into another,
    compare; both databases are dropped and the cluster stopped."""
    root = cluster.default_root(ROOT_NAME)
    cluster.start(root, PORT)
    for name in (SOURCE, RESTORED):
        cluster.drop_database(root, name)
    url = cluster.create_database(root, SOURCE)
    migrate.migrate_database(url)
    outcome = Outcome()
    with tempfile.TemporaryDirectory(prefix="callprobe-backup-") as work:
        Path(work).chmod(0o755)
        try:
            started = time.perf_counter()
            slug, results = seed(url, Path(work), probes, days, every_min)
            seeded = f"{results:,} results of {probes} probes"
            outcome.steps.append(("seed", seeded, time.perf_counter() - started))
            restored = backup_and_restore(root, url, Path(work) / "callprobe.dump", outcome)
            now = datetime.now(UTC)
            outcome.same_rows = counts(url) == counts(restored)
            outcome.same_page = asyncio.run(shown(url, slug, now)) == asyncio.run(
                shown(restored, slug, now)
            )
            with psycopg.connect(url) as conn:
                size = conn.execute("SELECT pg_database_size(current_database())").fetchall()
            outcome.database_bytes = size[0][0]
        finally:
            for name in (SOURCE, RESTORED):
                cluster.drop_database(root, name)
            cluster.stop(root)
    return outcome


def table(outcome: Outcome) -> Table:
    """The steps with their commands and times; sizes and the comparisons below."""
    shown_table = Table(title="Backup and restore (bench/backup_restore.py)")
    for column in ("step", "command", "seconds"):
        shown_table.add_column(column)
    for label, command, seconds in outcome.steps:
        shown_table.add_row(label, command, f"{seconds:.2f}")
    mib = 1024 * 1024
    shown_table.caption = (
        f"database {outcome.database_bytes / mib:.1f} MiB, dump {outcome.dump_bytes / mib:.1f}"
        f" MiB; same rows in every table: {outcome.same_rows}; same page JSON and bars:"
        f" {outcome.same_page}"
    )
    return shown_table


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probes", type=int, default=20)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--every-min", type=int, default=5)
    args = parser.parse_args()
    Console(width=120).print(table(run(args.probes, args.days, args.every_min)))
