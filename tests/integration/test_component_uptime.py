"""Stored transitions become a component's uptime bar: 719 of 720 healthy hours is 99.86 %."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from statuspages.component_uptime import component_uptime, period_start
from statuspages.incidents import incidents
from statuspages.uptime import Window, format_pct
from store import state_history
from tests.integration.conftest import new_probe
from tests.integration.test_store_health import _change
from thresholds.states import State

pytestmark = pytest.mark.db

UTC_ZONE = ZoneInfo("UTC")
TODAY = date(2026, 6, 30)
NOW = datetime(2026, 7, 1, tzinfo=UTC)  # the end of the 30th day: whole days only
H = timedelta(hours=1)


def test_thirty_days_with_one_bad_hour(conn, run) -> None:
    start = period_start(TODAY, 30, UTC_ZONE)
    project, probe = run(new_probe(conn))
    # Healthy from before the period, one unhealthy hour on June 10th.
    run(_change(conn, project, probe, start - 24 * H, "unknown", "healthy"))
    outage = datetime(2026, 6, 10, 12, tzinfo=UTC)
    run(_change(conn, project, probe, outage, "healthy", "unhealthy", "MOS fell to 3.1"))
    run(_change(conn, project, probe, outage + H, "unhealthy", "healthy"))
    histories = run(state_history.state_histories(conn, [probe], start, NOW))
    assert histories[probe].before == "healthy"
    assert [change.state for change in histories[probe].changes] == ["unhealthy", "healthy"]

    bar = component_uptime(histories[probe], [], today=TODAY, days=30, zone=UTC_ZONE, now=NOW)
    assert len(bar.days) == 30
    assert format_pct(bar.total.uptime(degraded_is_up=False)) == "99.86 %"
    by_day = {day.day: day.tally for day in bar.days}
    assert by_day[date(2026, 6, 10)].bar_state() is State.UNHEALTHY
    assert by_day[date(2026, 6, 10)].unhealthy_s == 3600
    assert by_day[date(2026, 6, 11)].bar_state() is State.HEALTHY

    window = [Window(outage - H, outage + 2 * H)]
    excused = component_uptime(
        histories[probe], window, today=TODAY, days=30, zone=UTC_ZONE, now=NOW
    )
    assert format_pct(excused.total.uptime(degraded_is_up=False)) == "100.00 %"
    assert excused.total.maintenance_s == 3 * 3600


def test_a_probe_without_history_is_grey(conn, run) -> None:
    _, probe = run(new_probe(conn))
    start = period_start(TODAY, 3, UTC_ZONE)
    histories = run(state_history.state_histories(conn, [probe], start, NOW))
    assert histories[probe].before == "unknown" and histories[probe].changes == []
    bar = component_uptime(histories[probe], [], today=TODAY, days=3, zone=UTC_ZONE, now=NOW)
    assert [day.tally.bar_state() for day in bar.days] == [State.UNKNOWN] * 3
    assert bar.total.uptime(degraded_is_up=True) is None


def test_an_incident_open_before_the_bar_keeps_its_real_start(conn, run) -> None:
    project, probe = run(new_probe(conn))
    start = period_start(TODAY, 7, UTC_ZONE)
    began = start - 10 * 24 * H
    run(_change(conn, project, probe, began - 24 * H, "unknown", "healthy"))
    run(_change(conn, project, probe, began, "healthy", "degraded", "MOS fell"))
    run(_change(conn, project, probe, began + H, "degraded", "unhealthy", "MOS fell more"))
    history = run(state_history.state_histories(conn, [probe], start, NOW))[probe]
    assert (history.before, history.bad_since) == ("unhealthy", began)
    (incident,) = incidents(history, component="Trunk", component_id="t", start=start)
    assert incident.started == began and incident.ended is None
