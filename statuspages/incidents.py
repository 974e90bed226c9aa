"""Incidents from health transitions, told in customer words.

Pure. An incident is a period a component spent degraded or unhealthy: it opens
when the component leaves healthy (or no data) for one of those and ends when it
is healthy again or stops reporting. Its cause is the first deciding reason at
its worst state, phrased without probe targets or locations ("MOS fell to 3.1 on
Primary SIP Trunk").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from store.state_history import StateHistory
from thresholds.metrics import METRICS
from thresholds.states import State, severity

BAD = (State.DEGRADED, State.UNHEALTHY)

_LABELS = {
    "mos": "MOS",
    "pesq_mos": "MOS",
    "emodel_mos": "MOS",
    "r_factor": "R-factor",
    "jitter_ms": "Jitter",
    "loss_pct": "Packet loss",
    "rtt_ms": "Round-trip time",
    "pdd_ms": "Post-dial delay",
    "setup_ms": "Call setup time",
    "register_ms": "Registration time",
    "asr_pct": "Answer-seizure ratio",
    "scr_pct": "Session completion ratio",
    "latency_ms": "Response time",
    "load_cpu": "CPU load",
    "load_ram": "Memory load",
}


@dataclass(frozen=True, kw_only=True, slots=True)
class Incident:
    """One degraded or unhealthy period of one component; ``ended`` None while open."""

    component: str
    component_id: str
    started: datetime
    ended: datetime | None
    worst: State
    cause: str

    def duration(self, now: datetime) -> timedelta:
        return (self.ended or now) - self.started


def _value(metric: str, value: float) -> str:
    unit = METRICS[metric].unit if metric in METRICS else ""
    if unit in {"MOS", "R"}:
        return f"{value:.1f}"
    if unit == "ms":
        return f"{value:.0f} ms"
    if unit == "%":
        return f"{value:.1f} %"
    if unit == "ratio":
        return f"{value * 100:.0f} %"
    return f"{value:g}"


def cause_text(reasons: Sequence[Mapping[str, Any]], state: State, component: str) -> str:
    """What went wrong, from the reasons recorded with a transition."""
    for reason in reasons:
        metric, value = reason.get("metric"), reason.get("value")
        if reason.get("state") != state.value:
            continue
        if isinstance(metric, str) and isinstance(value, int | float) and metric in _LABELS:
            verb = "fell" if METRICS[metric].higher_is_better else "rose"
            return f"{_LABELS[metric]} {verb} to {_value(metric, float(value))} on {component}"
        if reason.get("rule") == "outcome":
            return f"Test calls failed on {component}"
    return f"{component} was {'unavailable' if state is State.UNHEALTHY else 'degraded'}"


def incidents(
    history: StateHistory, *, component: str, component_id: str, start: datetime
) -> list[Incident]:
    """The component's incidents in a history loaded from ``start``, oldest first; one
    already open then starts when its bad stretch began (``start`` if unknown)."""
    found: list[Incident] = []
    opened: Incident | None = None
    if (before := State(history.before)) in BAD:
        opened = Incident(
            component=component,
            component_id=component_id,
            started=history.bad_since or start,
            ended=None,
            worst=before,
            cause=cause_text((), before, component),
        )
    for change in history.changes:
        state = State(change.state)
        if state in BAD:
            if opened is None or severity(state) > severity(opened.worst):
                cause = cause_text(change.reasons, state, component)
                opened = Incident(
                    component=component,
                    component_id=component_id,
                    started=opened.started if opened else change.at,
                    ended=None,
                    worst=state,
                    cause=cause,
                )
        elif opened is not None:
            found.append(replace(opened, ended=change.at))
            opened = None
    if opened is not None:
        found.append(opened)
    return found


def human_duration(span: timedelta) -> str:
    """E.g. "2 h 5 min", "45 min", "under a minute"."""
    minutes = int(span.total_seconds() // 60)
    if minutes < 1:
        return "under a minute"
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "min")]
    return " ".join(f"{n} {unit}" for n, unit in parts if n)
