"""The view model of a public status page, built from what the store loaded.

Pure: rows in, a :class:`PageView` out, which the templates, the Statuspage-style
JSON and the feeds all read. Nothing here names a probe's target or id.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from statuspages.component_uptime import component_uptime, period_start
from statuspages.incidents import Incident, incidents
from statuspages.uptime import Day, Window, format_pct
from store.page_data import PlannedWindow
from store.state_history import StateHistory
from store.status_pages import Announcement, Component, Page
from thresholds.states import State, worst

BANNERS = {
    State.HEALTHY: "All Systems Operational",
    State.DEGRADED: "Partial Degradation",
    State.UNHEALTHY: "Major Issues Detected",
    State.UNKNOWN: "Status Pending",
}
STATE_LABELS = {
    State.HEALTHY: "Operational",
    State.DEGRADED: "Degraded",
    State.UNHEALTHY: "Major outage",
    State.UNKNOWN: "No data",
}


@dataclass(slots=True)  # not frozen: 4,500 per render (see statuspages.uptime.Tally)
class DayView:
    """One bar segment: its state (the worst of the day) and its tooltip."""

    day: date
    state: State
    label: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ComponentView:
    """A component as customers see it."""

    public_id: str
    name: str
    description: str
    group: str | None
    state: State
    under_maintenance: bool
    days: list[DayView]
    uptime: float | None
    uptime_text: str
    incidents: list[Incident]

    @property
    def state_label(self) -> str:
        return "Under maintenance" if self.under_maintenance else STATE_LABELS[self.state]


@dataclass(frozen=True, kw_only=True, slots=True)
class GroupView:
    """Components under one heading (``name`` None: ungrouped)."""

    name: str | None
    components: list[ComponentView]

    @property
    def state(self) -> State:
        return worst(c.state for c in self.components)


@dataclass(frozen=True, kw_only=True, slots=True)
class MaintenanceView:
    """Planned work shown on the page."""

    id: str
    title: str
    starts_at: datetime
    ends_at: datetime
    components: list[str]
    active: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class PageView:
    """Everything a rendering of the page needs."""

    page: Page
    zone: ZoneInfo
    now: datetime
    state: State
    banner: str
    groups: list[GroupView]
    components: list[ComponentView]
    incidents: list[Incident]
    announcements: list[Announcement]
    maintenance: list[MaintenanceView]


def history_start(page: Page, now: datetime) -> datetime:
    """Where the page's bars begin (UTC): the history to load."""
    zone = ZoneInfo(page.time_zone)
    return period_start(now.astimezone(zone).date(), page.bar_days, zone)


def build(
    page: Page,
    *,
    components: Sequence[Component],
    histories: Mapping[uuid.UUID, StateHistory],
    current: Mapping[uuid.UUID, str],
    windows: Sequence[PlannedWindow],
    announcements: Sequence[Announcement],
    now: datetime,
) -> PageView:
    """The page as of ``now``."""
    zone = ZoneInfo(page.time_zone)
    views = [
        _component(page, c, histories[c.probe_id], current=current, windows=windows, now=now)
        for c in components
    ]
    state = worst(c.state for c in views)
    names = {c.probe_id: c.name for c in components}
    return PageView(
        page=page,
        zone=zone,
        now=now,
        state=state,
        banner=BANNERS[state],
        groups=_groups(views),
        components=views,
        incidents=sorted(
            (i for c in views for i in c.incidents), key=lambda i: i.started, reverse=True
        ),
        announcements=[
            a
            for a in announcements
            if a.starts_at <= now and (a.ends_at is None or a.ends_at > now)
        ],
        maintenance=[
            _maintenance(w, names, now) for w in windows if w.ends_at > now and _shown(w, names)
        ],
    )


def _current(starts_at: datetime, ends_at: datetime | None, now: datetime) -> bool:
    return starts_at <= now and (ends_at is None or ends_at > now)


def _shown(window: PlannedWindow, names: Mapping[uuid.UUID, str]) -> bool:
    return window.probe_id is None or window.probe_id in names


def _maintenance(
    window: PlannedWindow, names: Mapping[uuid.UUID, str], now: datetime
) -> MaintenanceView:
    return MaintenanceView(
        id=window.id.hex[:12],
        title=window.title,
        starts_at=window.starts_at,
        ends_at=window.ends_at,
        components=[] if window.probe_id is None else [names[window.probe_id]],
        active=window.starts_at <= now,
    )


def _component(
    page: Page,
    component: Component,
    history: StateHistory,
    *,
    current: Mapping[uuid.UUID, str],
    windows: Sequence[PlannedWindow],
    now: datetime,
) -> ComponentView:
    zone = ZoneInfo(page.time_zone)
    mine = [
        Window(w.starts_at, w.ends_at)
        for w in windows
        if w.probe_id is None or w.probe_id == component.probe_id
    ]
    today = now.astimezone(zone).date()
    bars = component_uptime(history, mine, today=today, days=page.bar_days, zone=zone, now=now)
    found = incidents(
        history,
        component=component.name,
        component_id=component.public_id,
        start=history_start(page, now),
    )
    share = bars.total.uptime(degraded_is_up=page.degraded_is_up)
    return ComponentView(
        public_id=component.public_id,
        name=component.name,
        description=component.description,
        group=component.group_name,
        state=State(current.get(component.probe_id, State.UNKNOWN.value)),
        under_maintenance=any(w.start <= now < w.end for w in mine),
        days=[_day(day, found, page.degraded_is_up) for day in bars.days],
        uptime=share,
        uptime_text=format_pct(share),
        incidents=found,
    )


@lru_cache(maxsize=512)
def _date_label(day: date) -> str:
    return f"{day:%d %b %Y}: "


def _day(day: Day, found: Sequence[Incident], degraded_is_up: bool) -> DayView:
    tally = day.tally
    state = tally.bar_state()
    text = _date_label(day.day)
    if state is State.UNKNOWN:
        text += "maintenance" if tally.maintenance_s > 0 else "no data"
    else:
        text += f"{format_pct(tally.uptime(degraded_is_up=degraded_is_up))} uptime"
    if found:
        causes = [
            i.cause for i in found if i.started < day.end and (i.ended or day.end) > day.start
        ]
        if causes:
            many = "s" if len(causes) > 1 else ""
            text += f"; {len(causes)} incident{many}: " + "; ".join(causes)
    return DayView(day.day, state, text)


def _groups(components: Sequence[ComponentView]) -> list[GroupView]:
    """Components under their group, groups in order of their first component."""
    groups: dict[str | None, GroupView] = {}
    for component in components:
        group = groups.setdefault(component.group, GroupView(name=component.group, components=[]))
        group.components.append(component)
    return list(groups.values())
