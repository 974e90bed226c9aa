"""What the fault tests and ``bench/fault_run.py`` check, counted from the database by run
id, and two watchers that run beside the faults (503s seen, judging lag).

Lost: a completed run without exactly one result, or a run still open though it was
due well before the agents stopped. Duplicated: a run id with more than one stored
result. Late: a result the API received more than ``LATE_S`` after it started (it
came from a spool). The hourly rollup must count exactly the stored results.
"""

from __future__ import annotations

import contextlib
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import psycopg

LATE_S = 10
"""A result received this long after it started was delivered from a spool."""

_RUNS = """
SELECT count(*),
       count(*) FILTER (WHERE completed_at IS NOT NULL),
       count(*) FILTER (WHERE completed_at IS NOT NULL AND n <> 1),
       count(*) FILTER (WHERE completed_at IS NULL AND due_at < %(open_before)s),
       count(*) FILTER (WHERE completed_at IS NULL AND n > 0),
       count(*) FILTER (WHERE attempts > 1),
       count(*) FILTER (WHERE cardinality(earlier_holders) > 0)
FROM (SELECT r.*, (SELECT count(*) FROM call_results c WHERE c.run_id = r.run_id) AS n
      FROM runs r WHERE r.project_id = %(project)s) AS r
"""

_RESULTS = """
SELECT (SELECT count(*) FROM (SELECT run_id FROM call_results WHERE project_id = %(project)s
                              GROUP BY run_id HAVING count(*) > 1) AS d),
       count(*) FILTER (WHERE received_at - started_at > make_interval(secs => %(late)s)),
       count(*) FILTER (WHERE started_at > received_at)
FROM call_results WHERE project_id = %(project)s
"""

# Hours where the rollup's count differs from the stored results' (either side missing).
_ROLLUP_MISMATCH = """
SELECT count(*) FROM (
    SELECT probe_id, location, time_bucket('1 hour', started_at) AS bucket, count(*) AS n
    FROM call_results WHERE project_id = %(project)s GROUP BY 1, 2, 3
) AS c FULL JOIN (
    SELECT h.probe_id, h.location, h.bucket, h.runs AS n FROM result_rollup_hourly h
    JOIN probes p ON p.id = h.probe_id WHERE p.project_id = %(project)s
) AS h USING (probe_id, location, bucket)
WHERE c.n IS DISTINCT FROM h.n
"""


@dataclass(frozen=True)
class FaultFindings:
    """The run's outcome, by run id."""

    runs: int
    completed: int
    completed_not_one: int
    open_past_due: int
    open_with_result: int
    reissued: int
    held_by_several: int
    duplicated: int
    late: int
    started_after_receipt: int
    rollup_mismatches: int

    @property
    def lost(self) -> int:
        """Completed without exactly one result, or open though long due."""
        return self.completed_not_one + self.open_past_due


def fault_findings(url: str, project: str, open_before: datetime) -> FaultFindings:
    """Count the project's runs and results; runs due before ``open_before`` must be done."""
    params = {"project": project, "open_before": open_before, "late": LATE_S}
    with psycopg.connect(url, autocommit=True) as conn:
        runs = conn.execute(_RUNS, params).fetchone()
        results = conn.execute(_RESULTS, params).fetchone()
        mismatch = conn.execute(_ROLLUP_MISMATCH, params).fetchone()
    assert runs and results and mismatch
    return FaultFindings(*runs, *results, *mismatch)


@dataclass
class Watch:
    """Answers of the API to an agent route and an admin route, polled while faults happen."""

    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    retry_after: Counter[str] = field(default_factory=Counter)
    stop: threading.Event = field(default_factory=threading.Event)

    def unavailable(self, route: str) -> int:
        """503s answered with ``Retry-After`` on ``route`` ("agent" or "admin")."""
        return self.retry_after[route]


def _poll(watch: Watch, base: str, agent_token: str, key: dict[str, str]) -> None:
    # An empty result batch: harmless, yet it needs the database (the token is checked).
    agent = {"Authorization": f"Bearer {agent_token}"}
    # A database outage answers 503 once the pool gives up waiting (about 5 s).
    with httpx.Client(base_url=base, timeout=15) as client:
        while not watch.stop.wait(0.25):
            for route in ("agent", "admin"):
                with contextlib.suppress(httpx.HTTPError):
                    if route == "agent":
                        answer = client.post(
                            "/v1/agent/results", json={"results": []}, headers=agent
                        )
                    else:
                        answer = client.get("/v1/probes", headers=key)
                    watch.statuses[route, answer.status_code] += 1
                    if answer.status_code == 503 and answer.headers.get("retry-after"):
                        watch.retry_after[route] += 1


@contextlib.contextmanager
def watching(base: str, agent_token: str, key: dict[str, str]) -> Any:
    """Poll the API at ``base`` in a thread for as long as the block runs."""
    watch = Watch()
    thread = threading.Thread(target=_poll, args=(watch, base, agent_token, key), daemon=True)
    thread.start()
    try:
        yield watch
    finally:
        watch.stop.set()
        thread.join(10)


# The oldest result of the project's probes not yet judged: how far judging is behind.
_BACKLOG = """
SELECT coalesce(extract(epoch FROM now() - min(c.received_at)), 0)
FROM call_results c JOIN probe_health h ON h.probe_id = c.probe_id AND h.location = ''
WHERE c.project_id = %(project)s AND c.received_at > now() - interval '5 minutes'
  AND c.received_at > h.evaluated_at
"""


@dataclass
class Lag:
    """Judging lag samples (seconds), taken every ``every_s``."""

    samples: list[float] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def p99(self) -> float:
        ordered = sorted(self.samples)
        return ordered[int(0.99 * (len(ordered) - 1))] if ordered else 0.0

    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else 0.0


def sample_lag(lag: Lag, url: str, project: str, every_s: float = 5) -> None:
    """Sample judging lag until ``lag.stop``; a sample the database refuses is skipped."""
    while not lag.stop.wait(every_s):
        with contextlib.suppress(psycopg.Error):
            with psycopg.connect(url, autocommit=True, connect_timeout=3) as conn:
                row = conn.execute(_BACKLOG, {"project": project}).fetchone()
            lag.samples.append(float(row[0]) if row else 0.0)


_HOLDING = """
SELECT count(*) FROM runs WHERE leased_by = %s AND completed_at IS NULL
  AND lease_expires > now() AND leased_at < now() - interval '0.5 seconds'
"""


def holding(url: str, agent_id: str, timeout: float = 20) -> bool:
    """Wait until the agent has held an unfinished run for half a second (one at a black
    hole: the others finish in milliseconds); False when it did not within ``timeout``."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(_HOLDING, (agent_id,)).fetchone()
            if row and row[0]:
                return True
            time.sleep(0.05)
    return False


def wait_for(check: Any, what: str, timeout: float = 30) -> None:
    """Poll ``check()`` until it is true; fail saying ``what`` did not happen."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(0.2)
