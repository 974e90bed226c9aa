"""A public status page of 50 components over 90 days, served from 20 million results.

Not a test: it prints wrk's raw output for the record and a table of callprobe against
Uptime Kuma 2.5.3 and the issue's targets. Run it with

    .venv/bin/python -m bench.status_page [--seconds 20] [--rows 20000000] [--reseed]

The first run seeds for about 11 minutes on a 2-core box; later runs reuse the seed.

1. Its own cluster (.var/pg-bench-pages, port 25443), seeded once and kept: the
   marker ``bench-seed.json`` in the cluster's directory holds the project key.
   Through the API: a project, location ``bench`` (no agent serves it, so nothing
   is ever leased) and 50 ``sip_call`` probes judged on MOS. Then in SQL: ``--rows``
   results spread over the probes and 90 days, their hourly rollups, and per probe
   a health history (mostly healthy, a few degraded / unhealthy episodes with
   incidents and the results to match, a few no-data gaps, one probe degraded now)
   with its state rollup and current health. Each later run tops the results up to
   the present, so the server's sweeper judges the probes as the seed left them.
   ``--reseed`` starts over on a fresh cluster.
2. ``POST /v1/pages`` with the 50 components in groups of 10 (slug ``bench``); the
   public page is ``GET /s/bench``.
3. ``callprobe serve --workers 1`` pinned to core 0 (``taskset -c 0``) on port
   18293, wrk pinned to core 1 (``taskset -c 1 wrk -t2 -c16``, sending
   ``Accept-Encoding: gzip`` as browsers do); the server restarts for each setting:
   - page cache on (default ``CALLPROBE_PAGE_CACHE_S``): the first request after
     the restart, warm requests/s and p50/p99, the server's RSS after that run, the
     page's size, and headless Chromium (fresh context, 5 runs, median) until
     DOMContentLoaded / load with the bytes transferred (navigation + resources);
   - ``CALLPROBE_PAGE_CACHE_S=0`` (cold: every request renders) with the per-client
     limit on uncached requests lifted (wrk is a single client): the same wrk run,
     and one client at a time (wrk -t1 -c1), the time of one render;
   - ``CALLPROBE_PAGE_CACHE_S=2``: renders during the run per kind
     (``callprobe_page_renders_total`` on /metrics) against the expiries, and wrk's
     longest request.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg.types.json import Jsonb
from rich.console import Console
from rich.table import Table

from bench import platform_harness as harness
from store import cluster
from store.pool import transaction
from store.results import add_to_rollups_since

PORT = 25443
API_PORT = 18293
BASE = f"http://127.0.0.1:{API_PORT}"
SLUG = "bench"
PAGE = f"{BASE}/s/{SLUG}"
ADMIN = "bench-pages-admin-token-0123456789abcdefghij"
REPO = Path(__file__).resolve().parent.parent
CALLPROBE = REPO / ".venv" / "bin" / "callprobe"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_CORE, CLIENT_CORE = "0", "1"
PROBES = 50
GROUP_SIZE = 10
DAYS = 90
CHUNK_ROWS = 2_000_000
SEED_CONNECTIONS = 2
LOCATION = "bench"
DEGRADED_NOW = 6
"""The probe (0-based) whose component is degraded at the seed's end, and stays so."""
GZIP = {"Accept-Encoding": "gzip"}
UNLIMITED = {"CALLPROBE_PUBLIC_RATE": "100000/second"}
console = Console(width=200)


# --- the cluster and the seed ------------------------------------------------------------


@dataclass
class Seed:
    """What a seeded cluster holds; saved beside it so a later run can reuse it.

    Probe ``n`` has a result at ``start + (k + n / 50) * step`` for every ``k`` below
    ``next_k``; ``end`` is when the results stop (topped up to the present each run)."""

    requested: int
    rows: int
    seconds: float
    project: str
    token: str
    probes: list[str]
    start: str
    step: float
    next_k: int
    end: str


def _marker(root: Path) -> Path:
    return root / "bench-seed.json"


def _load_seed(root: Path, url: str, rows: int) -> Seed | None:
    """The cluster's seed if it has one of at least ``rows`` results."""
    try:
        seed = Seed(**json.loads(_marker(root).read_text()))
    except (FileNotFoundError, TypeError, ValueError):
        return None
    with psycopg.connect(url) as conn:
        found = conn.execute("SELECT 1 FROM projects WHERE id = %s", (seed.project,)).fetchone()
    return seed if found and seed.requested >= rows else None


def _api_objects() -> tuple[str, str, list[str]]:
    """Through the API: the project (admin route) and its key, location ``bench`` and 50
    call probes there judged on MOS. No agent serves the location, so nothing is leased;
    the sweeper still judges the probes from the seeded results, which a stale-after of
    an hour keeps fresh for a whole run."""
    admin = {"Authorization": f"Bearer {ADMIN}"}
    created = httpx.post(f"{BASE}/v1/projects", json={"name": "bench pages"}, headers=admin)
    created.raise_for_status()
    project = created.json()["project"]["id"]
    token = created.json()["key"]["token"]
    probes = []
    with httpx.Client(base_url=BASE, headers=_bearer(token), timeout=30) as client:
        client.post("/v1/locations", json={"name": LOCATION}).raise_for_status()
        for n in range(1, PROBES + 1):
            body = {
                "name": f"trunk {n}",
                "kind": "sip_call",
                "target": f"sip:trunk-{n}@127.0.0.1:5999",
                "interval_s": 60,
                "locations": [LOCATION],
                "policy": {"stale_after_s": 3600},
            }
            response = client.post("/v1/probes", json=body)
            response.raise_for_status()
            probe = response.json()["id"]
            rule = {"metric": "pesq_mos", "warning": 3.6, "critical": 3.0}
            client.post(f"/v1/probes/{probe}/thresholds", json=rule).raise_for_status()
            probes.append(probe)
    return project, token, probes


# Probes are numbered by creation order; probe n is offset by n/50 of a step. Rows go
# in time order, so each day's chunk and its indexes fill one after the other.
_RESULTS = """
INSERT INTO call_results (
    run_id, probe, target, started_at, outcome, transport, codec, sip_status, sip_reason,
    pdd_ms, setup_ms, talk_s, rx_loss_pct, tx_loss_pct, jitter_ms, jitter_max_ms, rtt_ms,
    pesq_mos, pesq_mode, r_factor, emodel_mos, kind, probe_id, location, project_id)
SELECT gen_random_uuid(), p.name, p.target,
       %(start)s::timestamptz + ((k * %(probes)s + p.n) * %(step)s / %(probes)s)
           * interval '1 second',
       'ok', 'udp', 'PCMU', 200, 'OK',
       80 + random() * 220, 160 + random() * 240, 8,
       CASE WHEN random() < 0.9 THEN 0 ELSE random() * 1.5 END,
       CASE WHEN random() < 0.9 THEN 0 ELSE random() * 1.5 END,
       0.4 + random() * 4, 2 + random() * 12, 18 + random() * 25,
       4.05 + random() * 0.35, 'nb', 87 + random() * 6, 4.2 + random() * 0.2,
       'sip_call', p.id, %(location)s, p.project_id
FROM (SELECT id, name, target, project_id,
             row_number() OVER (ORDER BY created_at, id) - 1 AS n
      FROM probes WHERE project_id = %(project)s) AS p
CROSS JOIN generate_series(%(k0)s::bigint, %(k1)s::bigint - 1) AS k
ORDER BY k, p.n
"""


def _insert_results(url: str, seed: Seed, k_from: int, k_to: int) -> None:
    """Every probe's results for ``k`` in [k_from, k_to), in statements of ~2 million
    rows on two connections."""
    chunk = max(1, CHUNK_ROWS // PROBES)
    ranges = [(k0, min(k_to, k0 + chunk)) for k0 in range(k_from, k_to, chunk)]
    total = (k_to - k_from) * PROBES
    done = 0
    lock = threading.Lock()
    began = time.perf_counter()

    def insert(k0: int, k1: int) -> None:
        nonlocal done
        params = {"project": seed.project, "start": seed.start, "step": seed.step}
        params |= {"k0": k0, "k1": k1, "probes": PROBES, "location": LOCATION}
        with psycopg.connect(url) as conn:
            conn.execute("SET work_mem = '256MB'")
            conn.execute(_RESULTS, params)
        with lock:
            done += (k1 - k0) * PROBES
            rate = done / (time.perf_counter() - began)
            console.print(f"  results: {done:>12,} / {total:,} ({rate:,.0f} rows/s)")

    _make_chunks(url, seed, k_from, k_to)
    with ThreadPoolExecutor(SEED_CONNECTIONS) as workers:
        list(workers.map(lambda kk: insert(*kk), ranges))


# A transaction creating a chunk locks the hypertable until it commits, which would
# make the two loaders take turns: make every day's chunk first (a row in, then out).
_MAKE_CHUNKS = """
INSERT INTO call_results (run_id, probe, target, started_at, outcome, transport)
SELECT gen_random_uuid(), 'bench-chunk', '', d, 'ok', 'udp'
FROM generate_series(%(from)s::timestamptz, %(to)s::timestamptz, interval '6 hours') AS d
"""


def _make_chunks(url: str, seed: Seed, k_from: int, k_to: int) -> None:
    start = datetime.fromisoformat(seed.start)
    span = {
        "from": start + timedelta(seconds=k_from * seed.step),
        "to": start + timedelta(seconds=k_to * seed.step, days=1),
    }
    with psycopg.connect(url) as conn:
        conn.execute(_MAKE_CHUNKS, span)
        conn.execute("DELETE FROM call_results WHERE probe = 'bench-chunk'")


@dataclass(frozen=True)
class Episode:
    """A stretch away from healthy: degraded (maybe worsening to unhealthy) or no data."""

    start: datetime
    states: tuple[tuple[str, datetime], ...]
    """Each state entered and when; the last entry is the return to healthy, if any."""


def _episodes(
    rng: random.Random, start: datetime, end: datetime, now_degraded: bool
) -> list[Episode]:
    """A few degraded / unhealthy episodes and no-data gaps, hours apart."""
    kinds = ["degraded"] * rng.randint(2, 5) + ["unknown"] * rng.randint(0, 2)
    span = (end - start).total_seconds() - 6 * 3600
    slots = sorted(rng.sample(range(int(span // 3600)), len(kinds)))
    rng.shuffle(kinds)
    episodes = []
    for kind, hour in zip(kinds, slots, strict=True):
        at = start + timedelta(hours=hour, minutes=rng.randint(0, 50))
        if kind == "unknown":
            back = at + timedelta(minutes=rng.randint(10, 50))
            episodes.append(Episode(start=at, states=(("unknown", at), ("healthy", back))))
            continue
        worse = at + timedelta(minutes=rng.randint(2, 20))
        back = worse + timedelta(minutes=rng.randint(3, 35))
        states = [("degraded", at)]
        if rng.random() < 0.4:
            states.append(("unhealthy", worse))
        states.append(("healthy", back))
        episodes.append(Episode(start=at, states=tuple(states)))
    if now_degraded:
        at = end - timedelta(minutes=25)
        episodes.append(Episode(start=at, states=(("degraded", at),)))
    return episodes


_REASONS: dict[str, dict[str, Any]] = {
    "degraded": {"metric": "pesq_mos", "value": 3.42, "bound": 3.6, "text": "pesq_mos 3.42 < 3.6"},
    "unhealthy": {"metric": None, "value": None, "bound": None, "text": "sip_error (503)"},
    "unknown": {"metric": None, "value": None, "bound": None, "text": "no results"},
    "healthy": {"metric": None, "value": None, "bound": None, "text": "all rules pass"},
}


def _reason(state: str) -> list[dict[str, Any]]:
    rule = "threshold" if state == "degraded" else "outcome"
    return [{"state": state, "rule": rule, "location": None, **_REASONS[state]}]


_DEGRADE = """
UPDATE call_results SET pesq_mos = 3.2 + random() * 0.35, rx_loss_pct = 2 + random() * 3,
       jitter_ms = 15 + random() * 20
WHERE probe_id = %s AND started_at >= %s AND started_at < %s
"""

_FAIL = """
UPDATE call_results SET outcome = 'sip_error', sip_status = 503,
       sip_reason = 'Service Unavailable', pesq_mos = NULL, emodel_mos = NULL,
       r_factor = NULL, jitter_ms = NULL, jitter_max_ms = NULL, rx_loss_pct = NULL,
       tx_loss_pct = NULL, setup_ms = NULL, talk_s = NULL, rtt_ms = NULL
WHERE probe_id = %s AND started_at >= %s AND started_at < %s
"""

_SILENCE = "DELETE FROM call_results WHERE probe_id = %s AND started_at >= %s AND started_at < %s"


def _insert_health(
    conn: psycopg.Connection[Any], project: str, probes: list[str], end: datetime
) -> None:
    """Transitions, incidents, current health, and the results they imply (failed calls
    while unhealthy, poorer audio while degraded, none during a no-data gap)."""
    start = end - timedelta(days=DAYS)
    rng = random.Random(20_000_000)
    effect = {"degraded": _DEGRADE, "unhealthy": _FAIL, "unknown": _SILENCE}
    with conn.transaction(), conn.cursor() as cur:
        for n, probe in enumerate(probes):
            history = [("unknown", "healthy", start - timedelta(hours=1))]
            for episode in _episodes(rng, start, end, now_degraded=n == DEGRADED_NOW):
                previous = "healthy"
                ends = [at for _, at in episode.states[1:]] + [end]
                for (state, at), until in zip(episode.states, ends, strict=True):
                    history.append((previous, state, at))
                    previous = state
                    if state in effect:
                        cur.execute(effect[state], (probe, at, until))
                _incident(cur, project, probe, episode)
            cur.executemany(
                "INSERT INTO health_transitions"
                " (project_id, probe_id, at, from_state, to_state, reasons)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                [(project, probe, at, a, b, Jsonb(_reason(b))) for a, b, at in history],
            )
            _, state, since = history[-1]
            cur.execute(
                "INSERT INTO probe_health (probe_id, location, state, since, reasons, evaluated_at)"
                " VALUES (%s, '', %s, %s, %s, %s) ON CONFLICT (probe_id, location) DO UPDATE"
                " SET state = excluded.state, since = excluded.since,"
                " reasons = excluded.reasons, evaluated_at = excluded.evaluated_at",
                (probe, state, since, Jsonb(_reason(state)), end),
            )


def _incident(cur: psycopg.Cursor[Any], project: str, probe: str, episode: Episode) -> None:
    states = [state for state, _ in episode.states]
    if states[0] == "unknown":
        return
    worst = "unhealthy" if "unhealthy" in states else "degraded"
    resolved = episode.states[-1][1] if states[-1] == "healthy" else None
    cur.execute(
        "INSERT INTO incidents (project_id, probe_id, opened_at, resolved_at, worst_state, cause)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (project, probe, episode.start, resolved, worst, _REASONS[worst]["text"]),
    )


# What recording each transition would have left: state seconds per UTC hour from the
# first transition up to the last (the hours after it are filled by the next one).
_HEALTH_ROLLUP = """
WITH seg AS (
    SELECT probe_id, to_state AS state, at AS s,
           lead(at) OVER (PARTITION BY probe_id ORDER BY at, id) AS e
    FROM health_transitions WHERE project_id = %(project)s
), parts AS (
    SELECT probe_id, h, state,
           extract(epoch FROM least(e, h + interval '1 hour') - greatest(s, h)) AS secs
    FROM seg CROSS JOIN LATERAL generate_series(
        date_trunc('hour', s, 'UTC'), e - interval '1 microsecond', interval '1 hour') AS h
    WHERE e > s
)
INSERT INTO health_rollup_hourly AS r
    (probe_id, bucket, healthy_s, degraded_s, unhealthy_s, unknown_s)
SELECT probe_id, h,
       coalesce(sum(secs) FILTER (WHERE state = 'healthy'), 0),
       coalesce(sum(secs) FILTER (WHERE state = 'degraded'), 0),
       coalesce(sum(secs) FILTER (WHERE state = 'unhealthy'), 0),
       coalesce(sum(secs) FILTER (WHERE state = 'unknown'), 0)
FROM parts GROUP BY probe_id, h
ON CONFLICT (probe_id, bucket) DO UPDATE SET
    healthy_s = excluded.healthy_s, degraded_s = excluded.degraded_s,
    unhealthy_s = excluded.unhealthy_s, unknown_s = excluded.unknown_s
"""


def _seed(url: str, rows: int, data_dir: Path, log: Path) -> Seed:
    """The bench's project and probes (through the API), then 90 days of history in SQL
    with the server stopped (minutes for 20 million rows)."""
    began = time.perf_counter()
    server = _start(url, data_dir, log)
    try:
        project, token, probes = _api_objects()
    finally:
        harness.stop(server.proc)
    per_probe = math.ceil(rows * 1.005 / PROBES)  # no-data gaps delete a few
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    start = end - timedelta(days=DAYS)
    seed = Seed(
        requested=rows,
        rows=0,
        seconds=0.0,
        project=project,
        token=token,
        probes=probes,
        start=start.isoformat(),
        step=DAYS * 86400 / per_probe,
        next_k=per_probe,
        end=end.isoformat(),
    )
    console.print(f"seeding {rows:,} results over {DAYS} days for {len(probes)} probes")
    _insert_results(url, seed, 0, per_probe)
    with psycopg.connect(url, autocommit=True) as conn:
        console.print("  health history and incidents, and their effect on results")
        _insert_health(conn, project, probes, end)
        console.print("  hourly rollups")
        _roll_up_results(url, project, start)
        conn.execute(_HEALTH_ROLLUP, {"project": project})
        console.print("  vacuum analyze")
        conn.execute("SET maintenance_work_mem = '512MB'")
        for table in _SEED_TABLES:
            conn.execute(f"VACUUM (ANALYZE) {table}")
        stored = conn.execute("SELECT count(*) FROM call_results WHERE project_id = %s", (project,))
        seed.rows = stored.fetchone()[0]  # type: ignore[index]
    seed.seconds = time.perf_counter() - began
    console.print(f"seeded {seed.rows:,} results in {seed.seconds:,.0f} s")
    return seed


_SEED_TABLES = (
    "call_results",
    "result_rollup_hourly",
    "health_transitions",
    "health_rollup_hourly",
    "incidents",
    "probe_health",
)


def _roll_up_results(url: str, project: str, since: datetime) -> None:
    """Count the project's results since ``since`` into the hourly rollup, as ingest does."""

    async def roll_up() -> None:
        async with transaction(url) as conn:
            await add_to_rollups_since(conn, uuid.UUID(project), since)

    asyncio.run(roll_up())


def _top_up(url: str, seed: Seed) -> None:
    """Results from the seed's end to now (the probe degraded now stays degraded), so
    the sweeper judges the probes as the seed left them."""
    now = datetime.now(UTC)
    k_to = int((now - datetime.fromisoformat(seed.start)).total_seconds() // seed.step)
    if k_to <= seed.next_k:
        return
    since = datetime.fromisoformat(seed.end)
    console.print(f"topping up results since {since:%Y-%m-%d %H:%M} UTC")
    _insert_results(url, seed, seed.next_k, k_to)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(_DEGRADE, (seed.probes[DEGRADED_NOW], since, now))
        _roll_up_results(url, seed.project, since)
        added = conn.execute(
            "SELECT count(*) FROM call_results WHERE project_id = %s AND started_at >= %s",
            (seed.project, since),
        )
        seed.rows += added.fetchone()[0]  # type: ignore[index]
    seed.next_k = k_to
    seed.end = (
        datetime.fromisoformat(seed.start) + timedelta(seconds=k_to * seed.step)
    ).isoformat()


def _page(seed: Seed, url: str) -> None:
    """The bench page, made afresh (its id and components change, the probes do not)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM status_pages WHERE slug = %s", (SLUG,))
    components = [
        {"probe_id": probe, "name": f"Trunk {n + 1}", "group": f"Group {chr(65 + n // GROUP_SIZE)}"}
        for n, probe in enumerate(seed.probes)
    ]
    body = {"name": "Bench Voice", "slug": SLUG, "time_zone": "Europe/Berlin"}
    response = httpx.post(
        f"{BASE}/v1/pages",
        json={**body, "components": components},
        headers=_bearer(seed.token),
        timeout=30,
    )
    response.raise_for_status()


# --- the server --------------------------------------------------------------------------


@dataclass
class Server:
    """``callprobe serve`` pinned to one core, and how long it took to answer."""

    proc: subprocess.Popen[bytes]
    ready_s: float


def _start(url: str, data_dir: Path, log: Path, **settings: str) -> Server:
    environ = {
        **os.environ,
        "CALLPROBE_DATABASE_URL": url,
        "CALLPROBE_ADMIN_TOKEN": ADMIN,
        "CALLPROBE_DATA_DIR": str(data_dir),
        **settings,
    }
    command = ["taskset", "-c", SERVER_CORE, str(CALLPROBE), "serve"]
    began = time.perf_counter()
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [*command, "--port", str(API_PORT), "--workers", "1"],
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = began + 60
    while time.perf_counter() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"{BASE}/openapi.json", timeout=1).status_code == 200:
                return Server(proc=proc, ready_s=time.perf_counter() - began)
        except httpx.HTTPError:
            time.sleep(0.05)
    harness.stop(proc)
    raise RuntimeError(f"callprobe serve did not start: see {log}")


def _rss_kib(pid: int) -> tuple[int, int]:
    """VmRSS and VmHWM (peak) of the process and its children, in KiB."""
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        pids += [int(child) for child in (task / "children").read_text().split()]
    rss = hwm = 0
    for each in pids:
        fields = dict(
            line.split(":", 1) for line in Path(f"/proc/{each}/status").read_text().splitlines()
        )
        rss += int(fields["VmRSS"].split()[0])
        hwm += int(fields["VmHWM"].split()[0])
    return rss, hwm


def _renders(token: str) -> dict[str, float]:
    """``callprobe_page_renders_total`` by its ``kind`` label (service metrics: ``token``
    must be the admin token)."""
    text = httpx.get(f"{BASE}/metrics", headers=_bearer(token), timeout=10).text
    found: dict[str, float] = {}
    for line in text.splitlines():
        sample = re.match(r'callprobe_page_renders_total(?:\{.*kind="([^"]*)".*\})?\s+(\S+)', line)
        if sample:
            kind = sample.group(1) or ""
            found[kind] = found.get(kind, 0.0) + float(sample.group(2))
    return found


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- the clients -------------------------------------------------------------------------


@dataclass(frozen=True)
class Wrk:
    """What wrk printed: requests/s, latencies (ms) and its raw output."""

    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    bad: str
    raw: str


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS_MS[unit]


def parse_wrk(raw: str) -> Wrk:
    """Requests/sec, the 50 % / 99 % lines of ``--latency``, the max, non-2xx and errors."""
    latency = re.search(r"^\s*Latency\s+\S+\s+\S+\s+(\S+)", raw, re.M)
    p50 = re.search(r"^\s*50%\s+(\S+)", raw, re.M)
    p99 = re.search(r"^\s*99%\s+(\S+)", raw, re.M)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", raw, re.M)
    requests = re.search(r"^\s*(\d+) requests in", raw, re.M)
    if not (latency and p50 and p99 and rps and requests):
        raise RuntimeError(f"cannot parse wrk's output:\n{raw}")
    bad = [
        line.strip() for line in raw.splitlines() if "Non-2xx" in line or "Socket errors" in line
    ]
    return Wrk(
        rps=float(rps.group(1)),
        p50_ms=_ms(p50.group(1)),
        p99_ms=_ms(p99.group(1)),
        max_ms=_ms(latency.group(1)),
        requests=int(requests.group(1)),
        bad="; ".join(bad),
        raw=raw,
    )


def wrk(url: str, seconds: float, threads: int = 2, connections: int = 16) -> Wrk:
    """``taskset -c 1 wrk -tT -cC -dS --latency`` with browsers' Accept-Encoding."""
    command = ["taskset", "-c", CLIENT_CORE, "wrk", f"-t{threads}", f"-c{connections}"]
    command += [f"-d{seconds:g}s", "--latency", "-H", "Accept-Encoding: gzip", url]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return parse_wrk(done.stdout)


def _first_request() -> float:
    """Milliseconds of one GET of the page on a fresh connection."""
    began = time.perf_counter()
    response = httpx.get(PAGE, headers=GZIP, timeout=120)
    response.raise_for_status()
    return (time.perf_counter() - began) * 1000


@dataclass(frozen=True)
class Browser:
    """Median of headless Chromium loads in fresh contexts."""

    dcl_ms: float
    load_ms: float
    bytes: int
    requests: int


_NAVIGATION = "() => performance.getEntriesByType('navigation')[0].toJSON()"
_RESOURCES = "() => performance.getEntriesByType('resource').map(e => e.transferSize)"


def browser(runs: int) -> Browser:
    """Open the page ``runs`` times, each in a fresh context: navigation timing and bytes
    (navigation + resources, after the network went idle)."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 (heavy, optional)

    seen: list[tuple[float, float, int, int]] = []
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for _ in range(runs):
            context = chromium.new_context()
            page = context.new_page()
            page.goto(PAGE, wait_until="load")
            page.wait_for_load_state("networkidle")
            nav = page.evaluate(_NAVIGATION)
            sizes = page.evaluate(_RESOURCES)
            seen.append(
                (
                    nav["domContentLoadedEventEnd"],
                    nav["loadEventEnd"],
                    int(nav["transferSize"] + sum(sizes)),
                    1 + len(sizes),
                )
            )
            context.close()
        chromium.close()
    return Browser(
        dcl_ms=statistics.median(s[0] for s in seen),
        load_ms=statistics.median(s[1] for s in seen),
        bytes=int(statistics.median(s[2] for s in seen)),
        requests=int(statistics.median(s[3] for s in seen)),
    )


def _page_bytes() -> tuple[int, int]:
    """The HTML's size as sent without and with gzip."""
    plain = httpx.get(PAGE, headers={"Accept-Encoding": "identity"}, timeout=30)
    with httpx.stream("GET", PAGE, headers=GZIP, timeout=30) as gzipped:
        wire = sum(len(part) for part in gzipped.iter_raw())
    return len(plain.content), wire


# --- the run -----------------------------------------------------------------------------


@dataclass
class Findings:
    """Everything the table shows."""

    seed: Seed
    first_ms: list[float]
    ready_s: float
    warm: Wrk
    rss_kib: tuple[int, int]
    html: tuple[int, int]
    browser: Browser | None
    cold: Wrk
    cold_single: Wrk
    expiry: Wrk
    renders: dict[str, float]
    cache_s: float


def _require_tools() -> None:
    for tool in ("wrk", "taskset", CHROMIUM):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is missing: run scripts/bootstrap.sh (apt: chromium wrk)")
    if (os.cpu_count() or 1) < 2:
        raise SystemExit("needs two cores: the server on one, wrk on the other")


def _cluster(root: Path, *, fresh: bool) -> str:
    if fresh:
        cluster.stop(root)
        shutil.rmtree(root, ignore_errors=True)
    url = cluster.start(root, PORT)
    return url


def measure(args: argparse.Namespace) -> Findings:
    """Seed if needed (on a fresh cluster), then run every measurement; the server
    restarts for each setting."""
    _require_tools()
    root = cluster.default_root("pg-bench-pages")
    url = _cluster(root, fresh=False)
    data_dir = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    log = root / "serve.log"
    log.unlink(missing_ok=True)
    try:
        seed = None if args.reseed else _load_seed(root, url, args.rows)
        if seed is None:
            url = _cluster(root, fresh=True)
            seed = _seed(url, args.rows, data_dir, log)
        else:
            console.print(
                f"reusing the seed: {seed.rows:,} results ({seed.seconds:,.0f} s to make)"
            )
            _top_up(url, seed)
        _marker(root).write_text(json.dumps(asdict(seed), indent=1))
        return _measure(seed, url, data_dir, log, args)
    except BaseException:
        console.print(f"server log: {log}")
        raise
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def _measure(seed: Seed, url: str, data_dir: Path, log: Path, args: argparse.Namespace) -> Findings:
    first: list[float] = []
    # Cache on (default expiry): a restart's first request, warm load, RSS, a browser.
    server = _start(url, data_dir, log)
    try:
        _page(seed, url)
        harness.stop(server.proc)
        server = _start(url, data_dir, log)
        first.append(_first_request())
        ready_s = server.ready_s + first[-1] / 1000
        for _ in range(20):
            _first_request()
        warm = wrk(PAGE, args.seconds)
        rss = _rss_kib(server.proc.pid)
        html = _page_bytes()
        shown = browser(args.browser_runs) if args.browser_runs else None
    finally:
        harness.stop(server.proc)
    # Cache off: every request renders. Uncached public requests are rate-limited per
    # client (CALLPROBE_PUBLIC_RATE, 50/s): wrk is one client, and it measures renders.
    server = _start(url, data_dir, log, CALLPROBE_PAGE_CACHE_S="0", **UNLIMITED)
    try:
        first.append(_first_request())
        cold = wrk(PAGE, args.seconds)
        cold_single = wrk(PAGE, args.seconds, threads=1, connections=1)
    finally:
        harness.stop(server.proc)
    # A short expiry: one render per expiry, or one per waiting client?
    cache_s = 2.0
    server = _start(url, data_dir, log, CALLPROBE_PAGE_CACHE_S=f"{cache_s:g}")
    try:
        first.append(_first_request())
        before = _renders(ADMIN)
        expiry = wrk(PAGE, args.seconds)
        after = _renders(ADMIN)
        renders = {kind: n - before.get(kind, 0.0) for kind, n in after.items()}
    finally:
        harness.stop(server.proc)
    return Findings(
        seed=seed,
        first_ms=first,
        ready_s=ready_s,
        warm=warm,
        rss_kib=rss,
        html=html,
        browser=shown,
        cold=cold,
        cold_single=cold_single,
        expiry=expiry,
        renders=renders,
        cache_s=cache_s,
    )


def _met(ok: bool) -> str:
    return "[green]yes[/]" if ok else "[red]no[/]"


def table(f: Findings, seconds: float) -> Table:
    """measure | callprobe | Uptime Kuma 2.5.3 | target | met."""
    title = (
        f"Status page: {PROBES} components x {DAYS} days over {f.seed.rows:,} results;"
        f" server on core {SERVER_CORE}, wrk -t2 -c16 -d{seconds:g}s on core {CLIENT_CORE}"
    )
    out = Table(title=title)
    for column in ("measure", "callprobe", "Uptime Kuma 2.5.3", "target", "met"):
        out.add_column(column, justify="left" if column == "measure" else "right")
    w, c, one, e = f.warm, f.cold, f.cold_single, f.expiry
    expiries = seconds / f.cache_s
    kinds = ", ".join(f"{kind or '-'} {n:.0f}" for kind, n in sorted(f.renders.items()) if n)
    out.add_row("warm requests/s", f"{w.rps:,.0f}", "2,574", ">= 3,000", _met(w.rps >= 3000))
    out.add_row("warm p50 / p99", f"{w.p50_ms:.1f} / {w.p99_ms:.1f} ms", "p99 100 ms", "", "")
    out.add_row("cold (cache off) requests/s", f"{c.rps:,.0f}", "", "", "")
    out.add_row(
        "cold p50 / p99, 16 connections",
        f"{c.p50_ms:.1f} / {c.p99_ms:.1f} ms",
        "",
        "p99 < 50 ms",
        _met(c.p99_ms < 50),
    )
    out.add_row(
        "cold p50 / p99, one client",
        f"{one.p50_ms:.1f} / {one.p99_ms:.1f} ms",
        "52-66 ms",
        "p99 < 50 ms",
        _met(one.p99_ms < 50),
    )
    out.add_row(
        "first request after a restart",
        f"{f.first_ms[0]:.0f} ms (start to page {f.ready_s:.1f} s;"
        f" other restarts {', '.join(f'{ms:.0f}' for ms in f.first_ms[1:])} ms)",
        "11 s",
        "",
        "",
    )
    if f.browser is not None:
        b = f.browser
        out.add_row(
            "headless Chromium: DOMContentLoaded / load",
            f"{b.dcl_ms:.0f} / {b.load_ms:.0f} ms",
            "1.7 s usable",
            "< 300 ms",
            _met(b.load_ms < 300),
        )
        out.add_row(
            "bytes transferred (browser)",
            f"{b.bytes / 1024:.1f} KiB in {b.requests} request(s)",
            "976 KiB",
            "< 100 KiB",
            _met(b.bytes < 100 * 1024),
        )
    out.add_row(
        "page HTML: plain / gzip",
        f"{f.html[0] / 1024:.1f} / {f.html[1] / 1024:.1f} KiB",
        "",
        "",
        "",
    )
    rss, hwm = f.rss_kib
    out.add_row(
        "server RSS after warm run (peak)",
        f"{rss / 1024:.0f} MiB ({hwm / 1024:.0f})",
        "380-720 MiB",
        "< 150 MiB",
        _met(hwm < 150 * 1024),
    )
    out.add_row(
        f"renders in {seconds:g} s, cache {f.cache_s:g} s",
        f"{kinds or 'none'} for {expiries:.0f} expiries",
        "",
        "one per expiry (each kind)",
        _met(bool(f.renders) and all(n <= expiries + 1 for n in f.renders.values())),
    )
    out.add_row(
        "longest request across expiries",
        f"{e.max_ms:.0f} ms (p99 {e.p99_ms:.1f}, {e.rps:,.0f}/s)",
        "6 s stampede",
        "no stampede",
        "",
    )
    bad = [f"{name}: {run.bad}" for name, run in _runs(f) if run.bad]
    out.add_row("wrk non-2xx / socket errors", "; ".join(bad) or "none", "", "none", _met(not bad))
    return out


def _runs(f: Findings) -> list[tuple[str, Wrk]]:
    return [
        ("warm", f.warm),
        ("cold, 16 connections", f.cold),
        ("cold, one client", f.cold_single),
        (f"cache {f.cache_s:g} s (expiries)", f.expiry),
    ]


def parser() -> argparse.ArgumentParser:
    """Command-line options (defaults: the issue's 20 million rows and 20 s runs)."""
    options = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    options.add_argument("--seconds", type=float, default=20.0, help="each wrk run")
    options.add_argument("--rows", type=int, default=20_000_000, help="results to seed")
    options.add_argument("--reseed", action="store_true", help="a fresh cluster and seed")
    options.add_argument("--browser-runs", type=int, default=5, help="0: no browser")
    return options


def main(args: argparse.Namespace) -> Table:
    """Run the benchmark, print wrk's raw output, and return the table."""
    findings = measure(args)
    for name, run in _runs(findings):
        console.rule(f"wrk: {name}")
        console.print(run.raw.rstrip(), markup=False, highlight=False)
    return table(findings, args.seconds)


if __name__ == "__main__":
    console.print(main(parser().parse_args()))
