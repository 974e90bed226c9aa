"""A component's uptime bar as the page shows it: a segment per day with its tooltip,
and the bar's total.

Days before today never change unless something that shaped them does (a
transition, maintenance window, incident or page setting before today: all part
of :class:`BarMemo`'s key), so a memo keeps their segments between builds and a
build recomputes only today. A page of 50 components over 90 days then costs
50 days of work instead of 4,500.
"""

from __future__ import annotations

import uuid
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from statuspages.component_uptime import component_uptime
from statuspages.incidents import Incident
from statuspages.uptime import Day, Tally, Window, format_pct, local_days
from store.state_history import StateHistory
from store.status_pages import Component, Page
from thresholds.states import State


@dataclass(slots=True)  # not frozen: 4,500 per page (see statuspages.uptime.Tally)
class DayView:
    """One bar segment: its state (the worst of the day) and its tooltip."""

    day: date
    state: State
    label: str


@dataclass(slots=True)
class PastBar:
    """A bar's days before today and their tally. ``html`` is where the renderer keeps
    its markup of these days, so a memoised bar is also rendered once."""

    days: list[DayView]
    total: Tally
    html: str | None = None


@dataclass(frozen=True, slots=True)
class Bar:
    """A component's bar: the days before today, today, and the whole bar's tally."""

    past: PastBar
    today: list[DayView]
    total: Tally

    @property
    def days(self) -> list[DayView]:
        return [*self.past.days, *self.today]


@dataclass(slots=True)
class BarMemo:
    """Past days' segments and their total per probe, least recently used dropped
    past ``max_components``."""

    max_components: int = 4096
    _bars: OrderedDict[uuid.UUID, tuple[Hashable, PastBar]] | None = None

    def get(self, probe: uuid.UUID, key: Hashable) -> PastBar | None:
        bars = self._bars
        if bars is None or probe not in bars or bars[probe][0] != key:
            return None
        bars.move_to_end(probe)
        return bars[probe][1]

    def put(self, probe: uuid.UUID, key: Hashable, past: PastBar) -> None:
        if self._bars is None:
            self._bars = OrderedDict()
        self._bars[probe] = (key, past)
        self._bars.move_to_end(probe)
        while len(self._bars) > self.max_components:
            self._bars.popitem(last=False)


def component_bar(
    page: Page,
    component: Component,
    history: StateHistory,
    maintenance: Sequence[Window],
    found: Sequence[Incident],
    *,
    now: datetime,
    memo: BarMemo | None,
) -> Bar:
    """The bar as of ``now``: past days from ``memo`` while nothing that shaped them
    changed, today computed afresh."""
    zone = ZoneInfo(page.time_zone)
    today = now.astimezone(zone).date()
    key = _past_key(page, component, history, maintenance, found, today=today) if memo else None
    past = None if memo is None else memo.get(component.probe_id, key)
    if past is not None:
        bar = component_uptime(history, maintenance, today=today, days=1, zone=zone, now=now)
        today_views = _views(bar.days, found, page.degraded_is_up)
        return Bar(past=past, today=today_views, total=past.total + bar.total)
    bar = component_uptime(
        history, maintenance, today=today, days=page.bar_days, zone=zone, now=now
    )
    views = _views(bar.days, found, page.degraded_is_up)
    past = PastBar(views[:-1], Tally.total(day.tally for day in bar.days[:-1]))
    if memo is not None:
        memo.put(component.probe_id, key, past)
    return Bar(past=past, today=views[-1:], total=bar.total)


def _past_key(
    page: Page,
    component: Component,
    history: StateHistory,
    maintenance: Sequence[Window],
    found: Sequence[Incident],
    *,
    today: date,
) -> Hashable:
    """Everything the days before today depend on."""
    today_start = local_days(today, 1, ZoneInfo(page.time_zone))[0][1]
    return (
        component.name, page.time_zone, page.bar_days, page.degraded_is_up, today,
        history.before,
        tuple((c.at, c.state) for c in history.changes if c.at < today_start),
        tuple((w.start, w.end) for w in maintenance if w.start < today_start),
        tuple(i for i in found if i.started < today_start),
    )  # fmt: skip


def _views(days: Sequence[Day], found: Sequence[Incident], degraded_is_up: bool) -> list[DayView]:
    causes = _causes_by_day(days, found)
    return [
        _day(day, day_causes, degraded_is_up) for day, day_causes in zip(days, causes, strict=True)
    ]


def _causes_by_day(days: Sequence[Day], found: Sequence[Incident]) -> list[list[str]]:
    """Per day, the causes of the incidents that overlap it."""
    causes: list[list[str]] = [[] for _ in days]
    starts = [day.start for day in days]
    for incident in found:
        first = max(0, bisect_right(starts, incident.started) - 1)
        for index in range(first, len(days)):
            day = days[index]
            if incident.ended is not None and incident.ended <= day.start:
                break
            if incident.started < day.end:
                causes[index].append(incident.cause)
    return causes


@lru_cache(maxsize=512)
def _date_label(day: date) -> str:
    return f"{day:%d %b %Y}: "


def _day(day: Day, causes: Sequence[str], degraded_is_up: bool) -> DayView:
    tally = day.tally
    state = tally.bar_state()
    if state is State.UNKNOWN:
        text = "maintenance" if tally.maintenance_s > 0 else "no data"
    elif state is State.HEALTHY:
        text = "100.00 % uptime"  # only healthy time was seen
    else:
        text = f"{format_pct(tally.uptime(degraded_is_up=degraded_is_up))} uptime"
    if causes:
        many = "s" if len(causes) > 1 else ""
        text += f"; {len(causes)} incident{many}: " + "; ".join(causes)
    return DayView(day.day, state, _date_label(day.day) + text)
