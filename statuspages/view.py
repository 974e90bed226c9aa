"""The view model of a public status page, built from what the store loaded.

Pure: rows in, a :class:`PageView` out, which the templates, the Statuspage-style
JSON and the feeds all read. Nothing here names a probe's target or id.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from statuspages.bars import Bar, BarMemo, DayView, component_bar
from statuspages.component_uptime import period_start
from statuspages.incidents import Incident, incidents
from statuspages.uptime import Window, format_pct
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


@dataclass(frozen=True, kw_only=True, slots=True)
class ComponentView:
    """A component as customers see it."""

    public_id: str
    name: str
    description: str
    group: str | None
    state: State
    since: datetime | None
    """When it entered ``state``, as far as the loaded history shows (None: not shown)."""
    under_maintenance: bool
    bar: Bar
    uptime: float | None
    uptime_text: str
    incidents: list[Incident]

    @property
    def days(self) -> list[DayView]:
        return self.bar.days

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

    def component(self, public_id: str) -> ComponentView | None:
        """The component shown under ``public_id``, if the page shows it."""
        return next((c for c in self.components if c.public_id == public_id), None)


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
    memo: BarMemo | None = None,
) -> PageView:
    """The page as of ``now`` (``memo`` keeps past days' segments between builds)."""
    zone = ZoneInfo(page.time_zone)
    views = [
        _component(
            page, c, histories[c.probe_id], current=current, windows=windows, now=now, memo=memo
        )
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
        announcements=[a for a in announcements if _current(a.starts_at, a.ends_at, now)],
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
        id=public_window_id(window.id),
        title=window.title,
        starts_at=window.starts_at,
        ends_at=window.ends_at,
        components=[] if window.probe_id is None else [names[window.probe_id]],
        active=window.starts_at <= now,
    )


def public_window_id(window_id: uuid.UUID) -> str:
    """A maintenance window's id in public output: 12 hex characters of a hash of its
    random id, stable everywhere and revealing nothing of the id itself."""
    return hashlib.sha256(b"maintenance/" + window_id.bytes).hexdigest()[:12]


def _component(
    page: Page,
    component: Component,
    history: StateHistory,
    *,
    current: Mapping[uuid.UUID, str],
    windows: Sequence[PlannedWindow],
    now: datetime,
    memo: BarMemo | None,
) -> ComponentView:
    mine = [
        Window(w.starts_at, w.ends_at)
        for w in windows
        if w.probe_id is None or w.probe_id == component.probe_id
    ]
    found = incidents(
        history,
        component=component.name,
        component_id=component.public_id,
        start=history_start(page, now),
    )
    bar = component_bar(page, component, history, mine, found, now=now, memo=memo)
    share = bar.total.uptime(degraded_is_up=page.degraded_is_up)
    state = State(current.get(component.probe_id, State.UNKNOWN.value))
    return ComponentView(
        public_id=component.public_id,
        name=component.name,
        description=component.description,
        group=component.group_name,
        state=state,
        since=_since(history, state),
        under_maintenance=any(w.start <= now < w.end for w in mine),
        bar=bar,
        uptime=share,
        uptime_text=format_pct(share),
        incidents=found,
    )


def _since(history: StateHistory, state: State) -> datetime | None:
    """The last change's time if it led to ``state``; with no change in the period, when
    a bad stretch already under way began."""
    if history.changes:
        last = history.changes[-1]
        return last.at if last.state == state.value else None
    return history.bad_since if history.before == state.value else None


def _groups(components: Sequence[ComponentView]) -> list[GroupView]:
    """Components under their group, groups in order of their first component."""
    groups: dict[str | None, GroupView] = {}
    for component in components:
        group = groups.setdefault(component.group, GroupView(name=component.group, components=[]))
        group.components.append(component)
    return list(groups.values())
