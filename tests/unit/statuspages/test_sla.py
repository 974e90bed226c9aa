"""The monthly SLA report: month bounds in the page's zone and per-component rows."""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statuspages.sla import SlaReport, month_bounds, previous_month, report
from store.page_data import PlannedWindow
from store.state_history import StateHistory
from store.status_pages import Page
from tests.unit.statuspages.factories import (
    make_component,
    make_history,
    make_page,
    make_window,
)

H = timedelta(hours=1)
UTC_ZONE = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
NOV = datetime(2026, 11, 1, tzinfo=UTC)  # a 30-day month: 720 h
AFTER = datetime(2026, 12, 15, tzinfo=UTC)


def _page(**fields: Any) -> Page:
    return make_page(**{**fields})


TRUNK = make_component("Trunk")
OTHER = make_component("Other", position=1)


def _history(before: str, *changes: tuple[datetime, str]) -> StateHistory:
    return make_history(before, *changes)


def _window(start: datetime, end: datetime, probe: uuid.UUID | None) -> PlannedWindow:
    return make_window(start, end, probe)


def _report(
    history: StateHistory,
    *,
    month: str = "2026-11",
    page: Page | None = None,
    windows: Sequence[PlannedWindow] = (),
    now: datetime = AFTER,
) -> SlaReport:
    return report(
        page or _page(),
        month=month,
        components=[TRUNK],
        histories={TRUNK.probe_id: history},
        windows=windows,
        now=now,
    )


def _row(history: StateHistory, **kwargs: Any) -> tuple[str, float, float, float, int]:
    [row] = _report(history, **kwargs).rows
    assert row.component == "Trunk"
    return row.uptime_text, row.downtime_min, row.no_data_min, row.maintenance_min, row.incidents


# --- month_bounds --------------------------------------------------------------------------


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("month", "zone", "start", "end"),
    [
        ("2026-11", UTC_ZONE, _utc(2026, 11, 1), _utc(2026, 12, 1)),
        ("2026-12", UTC_ZONE, _utc(2026, 12, 1), _utc(2027, 1, 1)),
        ("2028-02", UTC_ZONE, _utc(2028, 2, 1), _utc(2028, 3, 1)),
        # Berlin: winter months start at 23:00 UTC the day before, summer ones at 22:00.
        ("2026-01", BERLIN, _utc(2025, 12, 31, 23), _utc(2026, 1, 31, 23)),
        ("2026-03", BERLIN, _utc(2026, 2, 28, 23), _utc(2026, 3, 31, 22)),
        ("2026-07", BERLIN, _utc(2026, 6, 30, 22), _utc(2026, 7, 31, 22)),
        ("2026-10", BERLIN, _utc(2026, 9, 30, 22), _utc(2026, 10, 31, 23)),
        ("2026-12", BERLIN, _utc(2026, 11, 30, 23), _utc(2026, 12, 31, 23)),
    ],
)
def test_month_bounds(month: str, zone: ZoneInfo, start: datetime, end: datetime) -> None:
    assert month_bounds(month, zone) == (start, end)


def test_berlin_march_lasts_743_hours_and_october_745() -> None:
    start, end = month_bounds("2026-03", BERLIN)
    assert end.astimezone(UTC) - start.astimezone(UTC) == 743 * H
    start, end = month_bounds("2026-10", BERLIN)
    assert end.astimezone(UTC) - start.astimezone(UTC) == 745 * H


@pytest.mark.parametrize(
    "month",
    [
        *("2026-13", "2026-00", "26-01", "2026-1", "2026-001", "202601", "2026/01", ""),
        *("2026-1a", " 2026-01", "2026-01 ", "2026-01-01", "x2026-01", "2026-11.json"),
    ],
)
def test_bad_months_are_value_errors(month: str) -> None:
    with pytest.raises(ValueError, match="2026-11"):
        month_bounds(month, UTC_ZONE)


@pytest.mark.parametrize("month", ["2026-01\n", "\u0662\u0660\u0662\u0666-01"])
def test_month_must_be_exactly_ascii_yyyy_mm(month: str) -> None:
    """Only ASCII digits and nothing after the month."""
    with pytest.raises(ValueError):
        month_bounds(month, UTC_ZONE)


@given(year=st.integers(1970, 9998), number=st.integers(1, 12))
def test_months_tile_the_calendar(year: int, number: int) -> None:
    month = f"{year:04d}-{number:02d}"
    start, end = month_bounds(month, UTC_ZONE)
    assert (start.year, start.month, start.day, start.hour) == (year, number, 1, 0)
    assert end - start == timedelta(days=calendar.monthrange(year, number)[1])
    if (year, number) > (1970, 1):
        assert month_bounds(previous_month(month), UTC_ZONE)[1] == start


@pytest.mark.parametrize(
    ("month", "previous"),
    [
        ("2026-11", "2026-10"),
        ("2026-01", "2025-12"),
        ("2026-12", "2026-11"),
        ("2000-01", "1999-12"),
    ],
)
def test_previous_month(month: str, previous: str) -> None:
    assert previous_month(month) == previous


# --- report --------------------------------------------------------------------------------


def test_719_of_720_healthy_hours() -> None:
    history = _history("healthy", (NOV + 100 * H, "unhealthy"), (NOV + 101 * H, "healthy"))
    result = _report(history)
    [row] = result.rows
    assert row.uptime == pytest.approx(719 / 720)
    assert row.uptime_text == "99.861 %"
    assert (row.downtime_min, row.no_data_min, row.maintenance_min, row.incidents) == (
        60.0,
        0.0,
        0.0,
        1,
    )
    assert (result.month, result.previous) == ("2026-11", "2026-10")
    assert (result.start, result.end) == (NOV, datetime(2026, 12, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param([], ("100.000 %", 0.0, 0.0, 0.0, 0), id="all-healthy"),
        pytest.param(
            [(10, "unknown"), (20, "healthy")],
            ("100.000 %", 0.0, 600.0, 0.0, 0),
            id="no-data-leaves-the-denominator",
        ),
        pytest.param(
            [(10, "unknown"), (20, "unhealthy"), (21, "healthy")],
            ("99.859 %", 60.0, 600.0, 0.0, 1),  # 709 of 710 h
            id="no-data-and-downtime",
        ),
        pytest.param(
            [(10, "degraded"), (34, "healthy")],
            ("96.666 %", 1440.0, 0.0, 0.0, 1),  # 696 of 720 h
            id="degraded-is-down-by-default",
        ),
        pytest.param(
            [(0, "unhealthy"), (1, "degraded"), (2, "healthy"), (5, "unhealthy"), (6, "unknown")],
            ("50.000 %", 180.0, 714 * 60.0, 0.0, 2),  # 3 of 6 monitored h down
            id="two-incidents",
        ),
    ],
)
def test_report_rows(
    changes: list[tuple[int, str]], expected: tuple[str, float, float, float, int]
) -> None:
    history = _history("healthy", *((NOV + h * H, s) for h, s in changes))
    assert _row(history) == expected


@pytest.mark.parametrize(
    ("degraded_is_up", "expected"),
    [(False, ("96.666 %", 1440.0)), (True, ("100.000 %", 0.0))],
)
def test_degraded_is_up(degraded_is_up: bool, expected: tuple[str, float]) -> None:
    history = _history("healthy", (NOV + 10 * H, "degraded"), (NOV + 34 * H, "healthy"))
    text, downtime, *_ = _row(history, page=_page(degraded_is_up=degraded_is_up))
    assert (text, downtime) == expected


def test_never_reported_component_has_no_uptime() -> None:
    [row] = _report(_history("unknown")).rows
    assert row.uptime is None and row.uptime_text == "no data"
    assert (row.downtime_min, row.no_data_min, row.incidents) == (0.0, 720 * 60.0, 0)


@pytest.mark.parametrize(
    ("probe", "maintenance_min", "downtime_min"),
    [
        pytest.param("mine", 180.0, 0.0, id="own-window"),
        pytest.param(None, 180.0, 0.0, id="page-wide-window"),
        pytest.param("other", 0.0, 60.0, id="another-probe-window"),
    ],
)
def test_maintenance_leaves_the_denominator(
    probe: str | None, maintenance_min: float, downtime_min: float
) -> None:
    history = _history("healthy", (NOV + 100 * H, "unhealthy"), (NOV + 101 * H, "healthy"))
    owner = {"mine": TRUNK.probe_id, "other": OTHER.probe_id, None: None}[probe]
    window = _window(NOV + 99 * H, NOV + 102 * H, owner)
    text, downtime, no_data, maintenance, found = _row(history, windows=[window])
    assert (downtime, maintenance, no_data) == (downtime_min, maintenance_min, 0.0)
    assert text == ("100.000 %" if downtime_min == 0 else "99.861 %")
    assert found == 1  # the incident itself is still counted


def test_maintenance_outside_the_month_is_ignored() -> None:
    window = _window(NOV - 10 * H, NOV + 2 * H, TRUNK.probe_id)
    late = _window(datetime(2026, 11, 30, 23, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC), None)
    *_, maintenance, _ = _row(_history("healthy"), windows=[window, late])
    assert maintenance == 180.0


def test_month_in_progress_counts_only_until_now() -> None:
    now = NOV + 240 * H  # 10 days in
    history = _history("healthy", (NOV + 100 * H, "unhealthy"), (NOV + 101 * H, "healthy"))
    result = _report(history, now=now)
    [row] = result.rows
    assert row.uptime == pytest.approx(239 / 240) and row.uptime_text == "99.583 %"
    assert (row.downtime_min, row.no_data_min) == (60.0, 0.0)
    assert result.end == datetime(2026, 12, 1, tzinfo=UTC)  # the month's end all the same


def test_open_state_at_now_lasts_until_now() -> None:
    now = NOV + 10 * H
    text, downtime, no_data, _, found = _row(
        _history("healthy", (NOV + 9 * H, "unhealthy")), now=now
    )
    assert (text, downtime, no_data, found) == ("90.000 %", 60.0, 0.0, 1)


@pytest.mark.parametrize("now", [NOV, NOV - H, datetime(2026, 1, 1, tzinfo=UTC)])
def test_month_not_started_has_no_rows(now: datetime) -> None:
    result = _report(_history("healthy"), now=now)
    assert result.rows == [] and result.previous == "2026-10"


def test_previous_across_january() -> None:
    result = _report(_history("healthy"), month="2026-01", now=AFTER)
    assert (result.month, result.previous) == ("2026-01", "2025-12")
    assert result.rows[0].uptime_text == "100.000 %"


def test_berlin_month_uses_local_bounds_and_real_hours() -> None:
    """March 2026 in Berlin lasts 743 h: one hour down is 742/743."""
    start = datetime(2026, 2, 28, 23, tzinfo=UTC)
    history = _history("healthy", (start + 500 * H, "unhealthy"), (start + 501 * H, "healthy"))
    result = _report(history, month="2026-03", page=_page(time_zone="Europe/Berlin"))
    [row] = result.rows
    assert row.uptime == pytest.approx(742 / 743) and row.uptime_text == "99.865 %"
    assert row.no_data_min == 0.0 and row.downtime_min == 60.0
    assert result.start == start


def test_berlin_month_starts_at_local_midnight() -> None:
    """February in Berlin starts at 23:00 UTC on 31 January: the state carried in
    counts from there, not from UTC midnight."""
    start = datetime(2026, 1, 31, 23, tzinfo=UTC)  # February in Berlin
    history = _history("unhealthy", (start + H, "healthy"))
    result = _report(history, month="2026-02", page=_page(time_zone="Europe/Berlin"))
    [row] = result.rows
    assert row.downtime_min == 60.0 and row.incidents == 1


def test_one_row_per_component_in_order() -> None:
    result = report(
        _page(),
        month="2026-11",
        components=[TRUNK, OTHER],
        histories={TRUNK.probe_id: _history("healthy"), OTHER.probe_id: _history("unknown")},
        windows=[],
        now=AFTER,
    )
    assert [(r.component, r.uptime_text) for r in result.rows] == [
        ("Trunk", "100.000 %"),
        ("Other", "no data"),
    ]
