"""Writes a probe's health history straight into the tables the evaluator keeps, so
status page tests show states they chose."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

Move = tuple[datetime, str, list[dict[str, Any]]]
"""A transition: when, the state it led to, the reasons recorded with it."""


def store_history(url: str, project_id: str, probe_id: str, moves: list[Move]) -> None:
    """Record ``moves`` in order and make the last one the probe's current state."""
    judged(url, probe_id)
    with psycopg.connect(url) as conn:
        previous = conn.execute(
            "SELECT state FROM probe_health WHERE probe_id = %s AND location = ''", (probe_id,)
        ).fetchone()
        state = previous[0] if previous else "unknown"
        for at, to_state, reasons in moves:
            conn.execute(
                "INSERT INTO health_transitions (project_id, probe_id, at, from_state, to_state,"
                " reasons) VALUES (%s, %s, %s, %s, %s, %s)",
                (project_id, probe_id, at, state, to_state, Jsonb(reasons)),
            )
            state = to_state
        conn.execute(
            "INSERT INTO probe_health (probe_id, location, state, since, evaluated_at)"
            " VALUES (%s, '', %s, %s, now()) ON CONFLICT (probe_id, location) DO UPDATE"
            " SET state = excluded.state, since = excluded.since, evaluated_at = now()",
            (probe_id, state, moves[-1][0]),
        )


def judged(url: str, probe_id: str, timeout_s: float = 10.0) -> None:
    """Let a running server's judging loop finish with the probe's marks (a new probe is
    judged once), so it cannot overwrite a state written here; marks nobody has claimed
    are taken back (no loop runs)."""
    deadline = time.monotonic() + timeout_s
    with psycopg.connect(url, autocommit=True) as conn:
        while True:
            conn.execute(
                "DELETE FROM judging_queue WHERE probe_id = %s"
                " AND (leased_until IS NULL OR leased_until < now())",
                (probe_id,),
            )
            left = conn.execute(
                "SELECT count(*) FROM judging_queue WHERE probe_id = %s", (probe_id,)
            ).fetchone()
            if not left or not left[0]:
                return
            assert time.monotonic() < deadline, f"probe {probe_id} is still being judged"
            time.sleep(0.05)


def store_hourly(url: str, probe_id: str, end: datetime, hours: int) -> None:
    """Hourly call-quality rollups for the ``hours`` before ``end``: MOS 4.3 dipping to 3.1
    in one hour, jitter, loss and post-dial delay alongside."""
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO result_rollup_hourly (probe_id, location, bucket, runs, ok_runs,"
            " mos_sum, mos_n, jitter_sum, jitter_n, loss_sum, loss_n, pdd_sum, pdd_n)"
            " SELECT %(probe)s, 'test', b, 60, 60, CASE WHEN n = 5 THEN 3.1 ELSE 4.3 END * 60, 60,"
            " (2 + n %% 3) * 60, 60, CASE WHEN n = 5 THEN 4 ELSE 0 END * 60, 60, 900 * 60, 60"
            " FROM generate_series(1, %(hours)s) AS n, LATERAL"
            " (SELECT date_trunc('hour', %(end)s::timestamptz) - n * interval '1 hour') AS t(b)"
            " ON CONFLICT DO NOTHING",
            {"probe": probe_id, "hours": hours, "end": end},
        )
