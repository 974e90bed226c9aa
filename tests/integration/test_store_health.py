"""Transitions make incidents and an hourly state rollup that late rebuilds keep exact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from store import health, transitions
from tests.integration.conftest import new_probe
from thresholds.transitions import Transition

pytestmark = pytest.mark.db

T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


async def _change(conn, project, probe, at, before, after, cause="x") -> datetime:
    change = Transition(at=at, from_state=before, to_state=after, reasons=[], cause=cause)
    return await transitions.record_transition(
        conn, project_id=project, probe_id=probe, transition=change
    )


async def _rollup(conn, probe) -> list[tuple]:
    cur = await conn.execute(
        "SELECT bucket, healthy_s, degraded_s, unhealthy_s, unknown_s FROM health_rollup_hourly"
        " WHERE probe_id = %s ORDER BY bucket",
        (probe,),
    )
    return await cur.fetchall()


def test_transitions_open_and_resolve_one_incident_and_roll_up_hours(conn, run) -> None:
    project, probe = run(new_probe(conn))
    run(_change(conn, project, probe, T0, "unknown", "healthy"))
    run(_change(conn, project, probe, T0 + timedelta(minutes=30), "healthy", "degraded", "mos low"))
    run(_change(conn, project, probe, T0 + timedelta(minutes=45), "degraded", "unhealthy", "dead"))
    run(_change(conn, project, probe, T0 + timedelta(minutes=90), "unhealthy", "healthy"))

    incidents = run(health.incidents(conn, project))
    assert len(incidents) == 1
    incident = incidents[0]
    assert incident.opened_at == T0 + timedelta(minutes=30)
    assert incident.resolved_at == T0 + timedelta(minutes=90)
    assert (incident.worst_state, incident.cause) == ("unhealthy", "dead")

    hour = timedelta(hours=1)
    assert run(_rollup(conn, probe)) == [
        (T0, 1800.0, 900.0, 900.0, 0.0),
        (T0 + hour, 0.0, 0.0, 1800.0, 0.0),  # partial: the open healthy segment is not in it
    ]


def test_a_late_transition_is_clamped_after_the_last_one(conn, run) -> None:
    project, probe = run(new_probe(conn))
    run(_change(conn, project, probe, T0, "unknown", "healthy"))
    at = run(_change(conn, project, probe, T0 - timedelta(minutes=5), "healthy", "unhealthy"))
    assert at == T0
    assert [
        t.to_state
        for t in run(
            health.transitions(conn, probe, T0 - timedelta(days=1), T0 + timedelta(days=1))
        )
    ] == ["healthy", "unhealthy"]
