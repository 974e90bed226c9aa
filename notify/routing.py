"""What a channel is told about one probe: pure decisions over the router's memory.

For each (channel, probe) the router remembers what the channel was last told
(:class:`Memory`). A transition, or the clock, either produces one notice type and the
next memory, or nothing. Rules (see :mod:`notify.rules`):

- a change to a state the channel listens for is told once; a recovery only while an
  alert is open, i.e. after a bad state was told (a new probe going from unknown to
  healthy is news to nobody), even when 'unknown' was told in between;
- changes during a maintenance window are not told (when the rule says so); when the
  window ends, the state then is told if it is not what the channel last heard;
- ``flap.changes`` changes within ``flap.window_minutes`` are told as one ``flapping``
  notice, then nothing until the probe has been still for ``flap.settle_minutes``, when
  one ``settled`` notice tells where it came to rest;
- while a told bad state lasts, reminders follow with backoff.

``alert_key`` is the dedup key of the alert the channel holds open: set by the first bad
notice, kept through flapping, cleared by the notice that tells the recovery.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from notify.payloads import NoticeType
from notify.rules import Rules

BAD = ("degraded", "unhealthy")


@dataclass(frozen=True, kw_only=True, slots=True)
class Memory:
    """What one channel was last told about one probe."""

    told_state: str | None = None
    alert_key: str | None = None
    flapping_since: datetime | None = None
    last_change_at: datetime | None = None
    reminders_sent: int = 0
    next_reminder_at: datetime | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Change:
    """A probe's transition as the router sees it."""

    probe_id: uuid.UUID
    at: datetime
    to_state: str
    incident_id: uuid.UUID | None
    recent_changes: int
    """Transitions of the probe within the channel's flap window, this one included."""
    quiet_until: datetime | None = None
    """When the maintenance window covering the change ends (None: not in maintenance)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Told:
    """A notice to send (``type`` None: nothing) and the memory after it."""

    type: NoticeType | None
    memory: Memory
    alert_key: str | None = None
    """The dedup key the notice carries (a recovery carries the key it closes)."""


def alert_key(probe_id: uuid.UUID, incident_id: uuid.UUID | None, at: datetime) -> str:
    """The dedup key of an alert opened now: the probe's incident, stable across a flap."""
    return f"callprobe:{probe_id}:{incident_id or at.isoformat()}"


def on_change(rules: Rules, memory: Memory, change: Change) -> Told:
    """What a transition tells the channel."""
    moved = replace(memory, last_change_at=change.at)
    if change.quiet_until is not None and rules.quiet_in_maintenance:
        # Looked at again when the window ends: a state that outlives it is told then.
        return Told(type=None, memory=replace(moved, next_reminder_at=change.quiet_until))
    if memory.flapping_since is not None:
        return Told(type=None, memory=moved)
    if rules.flap is not None and change.recent_changes >= rules.flap.changes:
        key = memory.alert_key or alert_key(change.probe_id, change.incident_id, change.at)
        flapping = replace(moved, flapping_since=change.at, alert_key=key, next_reminder_at=None)
        return Told(type="probe.flapping", memory=flapping, alert_key=key)
    return _state_change(rules, moved, change)


def _state_change(rules: Rules, memory: Memory, change: Change) -> Told:
    state = change.to_state
    if state in BAD:
        if state not in rules.on or memory.told_state == state:
            return Told(type=None, memory=memory)
        key = memory.alert_key or alert_key(change.probe_id, change.incident_id, change.at)
        told = replace(
            memory,
            told_state=state,
            alert_key=key,
            reminders_sent=0,
            next_reminder_at=_first_reminder(rules, change.at),
        )
        return Told(type="probe.health_changed", memory=told, alert_key=key)
    if state == "healthy":
        recovered = replace(memory, told_state="healthy", alert_key=None, next_reminder_at=None)
        if memory.alert_key is not None and "recovered" in rules.on:
            return Told(type="probe.health_changed", memory=recovered, alert_key=memory.alert_key)
        return Told(type=None, memory=recovered)
    if "unknown" in rules.on and memory.told_state != state:
        unknown = replace(memory, told_state=state)
        return Told(type="probe.health_changed", memory=unknown, alert_key=memory.alert_key)
    return Told(type=None, memory=memory)


def on_clock(
    rules: Rules, memory: Memory, now: datetime, state: str, new_key: str | None = None
) -> Told:
    """What the passing of time tells the channel: a flap settling, the state a
    maintenance window hid once it is over, or a reminder.

    ``state`` is the probe's current overall state; ``new_key`` the dedup key an alert
    opened now would take.
    """
    if memory.flapping_since is not None:
        return _settle(rules, memory, now, state)
    due = memory.next_reminder_at
    if due is None or due > now:
        return Told(type=None, memory=memory)
    caught_up = _catch_up(rules, memory, now, state, new_key)
    if caught_up is not None:
        return caught_up
    if memory.told_state not in BAD or state not in BAD or rules.reminders is None:
        return Told(type=None, memory=replace(memory, next_reminder_at=None))
    sent = memory.reminders_sent + 1
    later = rules.reminders.every_minutes * rules.reminders.backoff**sent
    following = now + timedelta(minutes=later) if sent < rules.reminders.max else None
    reminded = replace(memory, reminders_sent=sent, next_reminder_at=following)
    return Told(type="probe.reminder", memory=reminded, alert_key=memory.alert_key)


def _catch_up(
    rules: Rules, memory: Memory, now: datetime, state: str, new_key: str | None
) -> Told | None:
    """The state as it is now, when the channel was last told something else (a change
    held back during maintenance)."""
    if state in BAD and state != memory.told_state and state in rules.on:
        key = memory.alert_key or new_key
        told = replace(
            memory,
            told_state=state,
            alert_key=key,
            reminders_sent=0,
            next_reminder_at=_first_reminder(rules, now),
        )
        return Told(type="probe.health_changed", memory=told, alert_key=key)
    if state == "healthy" and memory.alert_key is not None:
        recovered = replace(memory, told_state=state, alert_key=None, next_reminder_at=None)
        kind: NoticeType | None = "probe.health_changed" if "recovered" in rules.on else None
        return Told(type=kind, memory=recovered, alert_key=memory.alert_key)
    return None


def _settle(rules: Rules, memory: Memory, now: datetime, state: str) -> Told:
    settle = rules.flap.settle_minutes if rules.flap else 0.0
    still_since = memory.last_change_at or memory.flapping_since
    if still_since is not None and now - still_since < timedelta(minutes=settle):
        return Told(type=None, memory=memory)
    bad = state in BAD
    settled = replace(
        memory,
        flapping_since=None,
        told_state=state,
        alert_key=memory.alert_key if bad else None,
        reminders_sent=0,
        next_reminder_at=_first_reminder(rules, now) if bad else None,
    )
    return Told(type="probe.settled", memory=settled, alert_key=memory.alert_key)


def _first_reminder(rules: Rules, at: datetime) -> datetime | None:
    if rules.reminders is None:
        return None
    return at + timedelta(minutes=rules.reminders.every_minutes)
