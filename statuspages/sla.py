"""The monthly SLA report: per component, uptime, downtime minutes and incidents.

Pure. Uses the same time-weighted tally as the bars: no-data time and maintenance
leave the denominator, degraded time counts as the page says.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from statuspages.incidents import incidents
from statuspages.uptime import Window, format_pct, spans_from_transitions, tally
from store.page_data import PlannedWindow
from store.state_history import StateHistory
from store.status_pages import Component, Page
from thresholds.states import State

_MONTH = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")


@dataclass(frozen=True, kw_only=True, slots=True)
class SlaRow:
    """One component's month."""

    component: str
    uptime: float | None
    uptime_text: str
    downtime_min: float
    no_data_min: float
    maintenance_min: float
    incidents: int


@dataclass(frozen=True, kw_only=True, slots=True)
class SlaReport:
    """A page's month, with the month before for navigation."""

    month: str
    previous: str | None
    start: datetime
    end: datetime
    rows: list[SlaRow]


def month_bounds(month: str, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """``YYYY-MM`` as ``[start, end)`` of that month in ``zone``; ValueError otherwise."""
    match = _MONTH.fullmatch(month)
    if match is None:
        raise ValueError(f"month must look like 2026-11, got {month!r}")
    year, number = int(match[1]), int(match[2])
    first = date(year, number, 1)
    following = date(year + number // 12, number % 12 + 1, 1)
    return datetime.combine(first, time(), zone), datetime.combine(following, time(), zone)


def previous_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:])
    return f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"


def report(
    page: Page,
    *,
    month: str,
    components: Sequence[Component],
    histories: Mapping[uuid.UUID, StateHistory],
    windows: Sequence[PlannedWindow],
    now: datetime,
) -> SlaReport:
    """The report for ``month`` (histories loaded over :func:`month_bounds`, up to ``now``)."""
    start, end = month_bounds(month, ZoneInfo(page.time_zone))
    until = min(end, now)
    rows = (
        [_row(page, c, histories[c.probe_id], windows, start=start, end=until) for c in components]
        if until > start
        else []
    )
    return SlaReport(month=month, previous=previous_month(month), start=start, end=end, rows=rows)


def _row(
    page: Page,
    component: Component,
    history: StateHistory,
    windows: Sequence[PlannedWindow],
    *,
    start: datetime,
    end: datetime,
) -> SlaRow:
    spans = spans_from_transitions(
        ((c.at, State(c.state)) for c in history.changes),
        before=State(history.before),
        start=start,
        end=end,
    )
    mine = [
        Window(w.starts_at, w.ends_at)
        for w in windows
        if w.probe_id is None or w.probe_id == component.probe_id
    ]
    total = tally(spans, start, end, mine)
    share = total.uptime(degraded_is_up=page.degraded_is_up)
    found = incidents(history, component=component.name, component_id="", start=start)
    return SlaRow(
        component=component.name,
        uptime=share,
        uptime_text=format_pct(share, 3),
        downtime_min=round(total.down_s(degraded_is_up=page.degraded_is_up) / 60, 1),
        no_data_min=round(total.unknown_s / 60, 1),
        maintenance_min=round(total.maintenance_s / 60, 1),
        incidents=len(found),
    )
