"""Uptime is time-weighted from transitions; no data and maintenance leave the denominator."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statuspages.uptime import (
    Span,
    Tally,
    Window,
    daily,
    format_pct,
    local_days,
    spans_from_transitions,
    tally,
)
from thresholds.states import State

H = timedelta(hours=1)
START = datetime(2026, 10, 1, tzinfo=UTC)
END = START + 720 * H
BERLIN = ZoneInfo("Europe/Berlin")


def _spans(*transitions: tuple[datetime, State], before: State = State.HEALTHY) -> list[Span]:
    return spans_from_transitions(transitions, before=before, start=START, end=END)


def test_719_of_720_healthy_hours_is_99_86_percent() -> None:
    spans = _spans((START + 100 * H, State.UNHEALTHY), (START + 101 * H, State.HEALTHY))
    result = tally(spans, START, END)
    assert result.healthy_s == 719 * 3600 and result.unhealthy_s == 3600
    assert result.uptime(degraded_is_up=False) == pytest.approx(719 / 720)
    assert format_pct(result.uptime(degraded_is_up=False)) == "99.86 %"
    assert result.down_s(degraded_is_up=False) == 3600


@pytest.mark.parametrize(("degraded_is_up", "expected"), [(False, "97.22 %"), (True, "100.00 %")])
def test_degraded_counts_as_up_only_when_the_page_says_so(
    degraded_is_up: bool, expected: str
) -> None:
    spans = _spans((START + 10 * H, State.DEGRADED), (START + 30 * H, State.HEALTHY))
    result = tally(spans, START, END)
    assert result.degraded_s == 20 * 3600
    assert format_pct(result.uptime(degraded_is_up=degraded_is_up)) == expected


def test_maintenance_leaves_the_denominator_whatever_the_state() -> None:
    spans = _spans((START + 100 * H, State.UNHEALTHY), (START + 101 * H, State.HEALTHY))
    window = Window(START + 99 * H, START + 102 * H)
    result = tally(spans, START, END, [window])
    assert result.maintenance_s == 3 * 3600
    assert result.unhealthy_s == 0
    assert result.monitored_s == 717 * 3600
    assert format_pct(result.uptime(degraded_is_up=False)) == "100.00 %"


def test_overlapping_maintenance_windows_are_counted_once() -> None:
    spans = _spans()
    windows = [Window(START + 1 * H, START + 3 * H), Window(START + 2 * H, START + 4 * H)]
    assert tally(spans, START, END, windows).maintenance_s == 3 * 3600


def test_no_data_is_never_up() -> None:
    spans = _spans((START + 24 * H, State.UNKNOWN), (START + 48 * H, State.UNHEALTHY))
    result = tally(spans, START, START + 72 * H)
    assert result.unknown_s == 24 * 3600
    assert result.uptime(degraded_is_up=True) == pytest.approx(0.5)


def test_time_no_span_covers_is_unknown() -> None:
    result = tally([Span(START + H, START + 2 * H, State.HEALTHY)], START, START + 4 * H)
    assert result.healthy_s == 3600 and result.unknown_s == 3 * 3600


def test_nothing_monitored_has_no_uptime() -> None:
    result = tally(_spans(before=State.UNKNOWN), START, END)
    assert result.uptime(degraded_is_up=True) is None
    assert format_pct(None) == "no data"
    assert result.bar_state() is State.UNKNOWN


def test_percentages_are_rounded_down_so_downtime_never_shows_100() -> None:
    assert format_pct(0.999999) == "99.99 %"
    assert format_pct(1.0) == "100.00 %"
    assert format_pct(0.5, decimals=0) == "50 %"


def test_transitions_in_any_order_give_the_same_spans() -> None:
    moves = [
        (START + 5 * H, State.DEGRADED),
        (START + 9 * H, State.UNHEALTHY),
        (START + 12 * H, State.HEALTHY),
    ]
    forward = spans_from_transitions(moves, before=State.HEALTHY, start=START, end=END)
    backward = spans_from_transitions(moves[::-1], before=State.HEALTHY, start=START, end=END)
    assert forward == backward
    assert [s.state for s in forward] == [
        State.HEALTHY, State.DEGRADED, State.UNHEALTHY, State.HEALTHY
    ]  # fmt: skip


def test_transitions_before_the_range_set_the_starting_state() -> None:
    spans = spans_from_transitions(
        [(START - H, State.UNHEALTHY), (START + H, State.HEALTHY), (END + H, State.DEGRADED)],
        before=State.UNKNOWN,
        start=START,
        end=END,
    )
    assert spans == [Span(START, START + H, State.UNHEALTHY), Span(START + H, END, State.HEALTHY)]


def test_naive_times_and_empty_ranges_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        spans_from_transitions([], before=State.HEALTHY, start=START.replace(tzinfo=None), end=END)
    with pytest.raises(ValueError, match="after start"):
        spans_from_transitions([], before=State.HEALTHY, start=END, end=START)


def test_day_bars_follow_the_pages_time_zone() -> None:
    # 23:30-00:30 UTC on the night of 2026-10-10/11 is 01:30-02:30 in Berlin (CEST).
    outage = datetime(2026, 10, 10, 23, 30, tzinfo=UTC)
    spans = _spans((outage, State.UNHEALTHY), (outage + H, State.HEALTHY))
    in_utc = {
        d.day: d.tally
        for d in daily(spans, [], last=date(2026, 10, 11), count=2, zone=ZoneInfo("UTC"))
    }
    in_berlin = {
        d.day: d.tally for d in daily(spans, [], last=date(2026, 10, 11), count=2, zone=BERLIN)
    }
    assert in_utc[date(2026, 10, 10)].unhealthy_s == 1800
    assert in_utc[date(2026, 10, 11)].unhealthy_s == 1800
    assert in_berlin[date(2026, 10, 10)].unhealthy_s == 0
    assert in_berlin[date(2026, 10, 11)].unhealthy_s == 3600
    assert in_berlin[date(2026, 10, 11)].bar_state() is State.UNHEALTHY
    assert in_berlin[date(2026, 10, 10)].bar_state() is State.HEALTHY


def test_a_day_without_reports_is_grey_and_daylight_saving_days_have_their_length() -> None:
    days = local_days(date(2026, 10, 25), 2, BERLIN)
    assert [(end - start) / H for _, start, end in days] == [24, 25]
    spring = local_days(date(2026, 3, 29), 1, BERLIN)
    assert [(end - start) / H for _, start, end in spring] == [23]
    quiet = datetime.combine(date(2026, 10, 20), datetime.min.time(), BERLIN)
    spans = _spans((quiet, State.UNKNOWN), (quiet + 24 * H, State.HEALTHY))
    bars = daily(spans, [], last=date(2026, 10, 21), count=3, zone=BERLIN)
    assert [b.tally.bar_state() for b in bars] == [State.HEALTHY, State.UNKNOWN, State.HEALTHY]
    assert bars[1].tally.uptime(degraded_is_up=True) is None


def test_today_counts_only_up_to_now() -> None:
    now = datetime(2026, 10, 20, 6, tzinfo=UTC)
    bars = daily(_spans(), [], last=date(2026, 10, 20), count=1, zone=ZoneInfo("UTC"), now=now)
    assert bars[0].tally == Tally(healthy_s=6 * 3600)
    assert bars[0].end == now


_moves = st.lists(
    st.tuples(st.integers(min_value=0, max_value=720 * 60), st.sampled_from(list(State))),
    max_size=40,
)
_windows = st.lists(
    st.tuples(st.integers(min_value=0, max_value=720 * 60), st.integers(1, 3000)), max_size=5
)


@given(_moves, _windows)
def test_day_tallies_add_up_to_the_whole_period(
    moves: list[tuple[int, State]], windows: list[tuple[int, int]]
) -> None:
    minute = timedelta(minutes=1)
    spans = _spans(*((START + m * minute, state) for m, state in moves))
    maintenance = [Window(START + a * minute, START + (a + n) * minute) for a, n in windows]
    bars = daily(spans, maintenance, last=date(2026, 10, 30), count=30, zone=ZoneInfo("UTC"))
    total = sum((b.tally for b in bars), Tally())
    whole = tally(spans, START, END, maintenance)
    for name in ("healthy_s", "degraded_s", "unhealthy_s", "unknown_s", "maintenance_s"):
        assert getattr(total, name) == pytest.approx(getattr(whole, name))
    assert whole.monitored_s + whole.unknown_s + whole.maintenance_s == pytest.approx(720 * 3600)
