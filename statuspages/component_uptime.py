"""A component's uptime bar and percentage, from its stored state history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from statuspages.uptime import Day, Tally, Window, daily, local_days, spans_from_transitions
from store.state_history import StateHistory
from thresholds.states import State


@dataclass(frozen=True, slots=True)
class ComponentUptime:
    """One segment per local day, oldest first, and their sum."""

    days: list[Day]
    total: Tally


def period_start(today: date, days: int, zone: ZoneInfo) -> datetime:
    """Where a bar of ``days`` days ending ``today`` starts (UTC): the history to load."""
    return local_days(today, days, zone)[0][1]


def component_uptime(
    history: StateHistory,
    maintenance: Sequence[Window],
    *,
    today: date,
    days: int,
    zone: ZoneInfo,
    now: datetime,
) -> ComponentUptime:
    """The bar for ``history`` loaded from :func:`period_start` to ``now``; the state in
    effect at ``now`` lasts until ``now``, and nothing after it counts."""
    spans = spans_from_transitions(
        ((change.at, State(change.state)) for change in history.changes),
        before=State(history.before),
        start=period_start(today, days, zone),
        end=now,
    )
    bars = daily(spans, maintenance, last=today, count=days, zone=zone, now=now)
    return ComponentUptime(days=bars, total=Tally.total(bar.tally for bar in bars))
