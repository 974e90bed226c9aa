"""Every branch of :mod:`notify.routing`, as tables: a memory and a transition (or the
clock) in, the notice type, its dedup key and the next memory out."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from notify.routing import Change, Memory, Told, alert_key, on_change, on_clock
from notify.rules import FlapDamping, Reminders, Rules

PROBE = uuid.UUID(int=7)
INCIDENT = uuid.UUID(int=9)
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
KEY = "callprobe:held"
NEW_KEY = alert_key(PROBE, INCIDENT, T0)
DEFAULT = Rules()
REMIND = Rules(reminders=Reminders(every_minutes=30, backoff=2, max=3))


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def change(to: str, *, recent: int = 1, maintenance: bool = False) -> Change:
    return Change(
        probe_id=PROBE,
        at=T0,
        to_state=to,
        incident_id=INCIDENT,
        recent_changes=recent,
        quiet_until=minutes(60) if maintenance else None,
    )


def told_bad(state: str, **fields: Any) -> Memory:
    return Memory(told_state=state, alert_key=KEY, **fields)


def test_the_key_of_an_alert_is_its_incident_and_without_one_the_time() -> None:
    assert alert_key(PROBE, INCIDENT, T0) == f"callprobe:{PROBE}:{INCIDENT}"
    assert alert_key(PROBE, None, T0) == f"callprobe:{PROBE}:2026-12-01T12:00:00+00:00"


@pytest.mark.parametrize(
    ("rules", "memory", "to", "kind", "key", "told_state", "memory_key"),
    [
        # a bad state the channel listens for: told once, opening an alert
        (DEFAULT, Memory(), "unhealthy", "probe.health_changed", NEW_KEY, "unhealthy", NEW_KEY),
        (DEFAULT, Memory(told_state="healthy"), "degraded", "probe.health_changed", NEW_KEY,
         "degraded", NEW_KEY),
        # worse while an alert is open: told, on the same alert
        (DEFAULT, told_bad("degraded"), "unhealthy", "probe.health_changed", KEY, "unhealthy",
         KEY),
        # the same bad state again: nothing
        (DEFAULT, told_bad("unhealthy"), "unhealthy", None, None, "unhealthy", KEY),
        # a bad state the channel does not listen for: nothing, nothing remembered
        (Rules(on=["unhealthy", "recovered"]), Memory(told_state="healthy"), "degraded", None,
         None, "healthy", None),
        # a recovery after a told bad state: told, closing that alert
        (DEFAULT, told_bad("unhealthy"), "healthy", "probe.health_changed", KEY, "healthy", None),
        # a recovery the channel does not listen for: nothing told, the alert forgotten
        (Rules(on=["unhealthy"]), told_bad("unhealthy"), "healthy", None, None, "healthy", None),
        # healthy after nothing bad was told (a new probe, a repeat): nothing
        (DEFAULT, Memory(), "healthy", None, None, "healthy", None),
        (DEFAULT, Memory(told_state="healthy"), "healthy", None, None, "healthy", None),
        # unknown only when asked for, and once
        (DEFAULT, Memory(told_state="healthy"), "unknown", None, None, "healthy", None),
        (Rules(on=["unknown"]), Memory(told_state="healthy"), "unknown", "probe.health_changed",
         None, "unknown", None),
        (Rules(on=["unknown"]), Memory(told_state="unknown"), "unknown", None, None, "unknown",
         None),
        # unknown while an alert is open is told on it and keeps it open; the recovery
        # that follows closes it
        (Rules(on=["unknown", "unhealthy"]), told_bad("unhealthy"), "unknown",
         "probe.health_changed", KEY, "unknown", KEY),
        (DEFAULT, told_bad("unknown"), "healthy", "probe.health_changed", KEY, "healthy", None),
    ],
)  # fmt: skip
def test_a_change_is_told_once_and_a_recovery_only_after_a_bad_state(
    rules: Rules,
    memory: Memory,
    to: str,
    kind: str | None,
    key: str | None,
    told_state: str,
    memory_key: str | None,
) -> None:
    told = on_change(rules, memory, change(to))
    assert (told.type, told.alert_key) == (kind, key)
    assert (told.memory.told_state, told.memory.alert_key) == (told_state, memory_key)
    assert told.memory.last_change_at == T0


def test_a_told_bad_state_schedules_the_first_reminder_and_resets_the_count() -> None:
    told = on_change(REMIND, told_bad("degraded", reminders_sent=2), change("unhealthy"))
    assert (told.memory.reminders_sent, told.memory.next_reminder_at) == (0, minutes(30))
    assert on_change(DEFAULT, Memory(), change("unhealthy")).memory.next_reminder_at is None


def test_a_recovery_cancels_the_reminders() -> None:
    memory = told_bad("unhealthy", reminders_sent=1, next_reminder_at=minutes(60))
    assert on_change(REMIND, memory, change("healthy")).memory.next_reminder_at is None


@pytest.mark.parametrize("to", ["unhealthy", "healthy", "degraded"])
def test_in_maintenance_nothing_is_told_and_nothing_but_the_time_is_remembered(to: str) -> None:
    memory = told_bad("degraded")
    assert on_change(DEFAULT, memory, change(to, maintenance=True)) == Told(
        type=None,
        memory=Memory(
            told_state="degraded", alert_key=KEY, last_change_at=T0, next_reminder_at=minutes(60)
        ),
    )


@pytest.mark.parametrize(
    ("memory", "state", "told", "key"),
    [
        (Memory(), "unhealthy", "probe.health_changed", "new"),
        (told_bad("degraded"), "unhealthy", "probe.health_changed", KEY),
        (told_bad("unhealthy"), "healthy", "probe.health_changed", KEY),
        (Memory(told_state="healthy"), "healthy", None, None),
        (Memory(), "degraded", "probe.health_changed", "new"),
    ],
)
def test_the_state_a_maintenance_window_hid_is_told_when_it_ends(
    memory: Memory, state: str, told: str | None, key: str | None
) -> None:
    held = on_change(DEFAULT, memory, change(state, maintenance=True)).memory
    assert on_clock(DEFAULT, held, minutes(59), state, "new").type is None
    after = on_clock(DEFAULT, held, minutes(60), state, "new")
    assert (after.type, after.alert_key) == (told, key)
    assert after.memory.told_state == state


def test_maintenance_is_ignored_when_the_rule_says_so() -> None:
    rules = Rules(quiet_in_maintenance=False)
    told = on_change(rules, Memory(), change("unhealthy", maintenance=True))
    assert told.type == "probe.health_changed"


@pytest.mark.parametrize(
    ("memory", "to", "key"),
    [
        # an alert is open: the flap stays on it
        (told_bad("unhealthy"), "healthy", KEY),
        # none is open (the last notice was a recovery): the flap opens one, of its incident
        (Memory(told_state="healthy"), "unhealthy", NEW_KEY),
        (Memory(told_state="healthy"), "healthy", NEW_KEY),
    ],
)
def test_the_nth_change_in_the_window_is_one_flapping_notice_on_one_alert(
    memory: Memory, to: str, key: str
) -> None:
    memory = Memory(
        told_state=memory.told_state,
        alert_key=memory.alert_key,
        next_reminder_at=minutes(30),
    )
    told = on_change(REMIND, memory, change(to, recent=4))
    assert (told.type, told.alert_key) == ("probe.flapping", key)
    assert told.memory == Memory(
        told_state=memory.told_state,
        alert_key=key,
        flapping_since=T0,
        last_change_at=T0,
        next_reminder_at=None,
    )


@pytest.mark.parametrize(
    ("rules", "recent", "kind"),
    [
        (DEFAULT, 3, "probe.health_changed"),
        (DEFAULT, 4, "probe.flapping"),
        (DEFAULT, 40, "probe.flapping"),
        (Rules(flap=FlapDamping(changes=6)), 5, "probe.health_changed"),
        (Rules(flap=None), 40, "probe.health_changed"),
    ],
)
def test_flapping_starts_at_the_rule_s_number_of_changes(
    rules: Rules, recent: int, kind: str
) -> None:
    assert on_change(rules, Memory(), change("unhealthy", recent=recent)).type == kind


@pytest.mark.parametrize("to", ["unhealthy", "healthy", "unknown"])
def test_while_flapping_changes_are_swallowed_and_move_the_still_clock(to: str) -> None:
    memory = told_bad("unhealthy", flapping_since=minutes(-5), last_change_at=minutes(-1))
    told = on_change(Rules(on=["unknown", "unhealthy", "recovered"]), memory, change(to))
    assert told == Told(type=None, memory=told_bad("unhealthy", flapping_since=minutes(-5),
                                                   last_change_at=T0))  # fmt: skip


FLAPPING = told_bad("unhealthy", flapping_since=T0, last_change_at=minutes(4))


@pytest.mark.parametrize(
    ("memory", "now", "settled"),
    [
        # still for less than settle_minutes since the last change: still flapping
        (FLAPPING, minutes(13.99), False),
        (FLAPPING, minutes(14), True),
        # no change since the flap began: still since the flap began
        (told_bad("unhealthy", flapping_since=T0), minutes(9), False),
        (told_bad("unhealthy", flapping_since=T0), minutes(10), True),
    ],
)
def test_a_flap_settles_after_settle_minutes_without_a_change(
    memory: Memory, now: datetime, settled: bool
) -> None:
    told = on_clock(DEFAULT, memory, now, "unhealthy")
    assert told.type == ("probe.settled" if settled else None)
    assert (told.memory.flapping_since is None) == settled


def test_settling_bad_keeps_the_alert_and_starts_the_reminders() -> None:
    told = on_clock(REMIND, FLAPPING, minutes(20), "degraded")
    assert (told.type, told.alert_key) == ("probe.settled", KEY)
    assert told.memory == Memory(
        told_state="degraded",
        alert_key=KEY,
        last_change_at=minutes(4),
        next_reminder_at=minutes(50),
    )


@pytest.mark.parametrize("state", ["healthy", "unknown"])
def test_settling_not_bad_closes_the_alert_it_carries(state: str) -> None:
    told = on_clock(REMIND, FLAPPING, minutes(20), state)
    assert (told.type, told.alert_key) == ("probe.settled", KEY)
    assert told.memory == Memory(told_state=state, last_change_at=minutes(4))


def test_a_flap_settles_even_when_the_rule_lost_its_damping() -> None:
    told = on_clock(Rules(flap=None), FLAPPING, minutes(4), "unhealthy")
    assert told.type == "probe.settled"


def test_reminders_follow_with_backoff_up_to_the_maximum() -> None:
    memory = on_change(REMIND, Memory(told_state="healthy"), change("unhealthy")).memory
    sent = []
    for now in [minutes(m) for m in range(0, 600, 5)]:
        told = on_clock(REMIND, memory, now, "unhealthy")
        if told.type is not None:
            assert (told.type, told.alert_key) == ("probe.reminder", NEW_KEY)
            sent.append((now, told.memory.reminders_sent))
        memory = told.memory
    assert sent == [(minutes(30), 1), (minutes(90), 2), (minutes(210), 3)]
    assert memory.next_reminder_at is None


@pytest.mark.parametrize(
    ("rules", "memory", "state", "after"),
    [
        # nothing due yet, or nothing scheduled: nothing changes
        (REMIND, told_bad("unhealthy", next_reminder_at=minutes(1)), "unhealthy",
         minutes(1)),
        (REMIND, told_bad("unhealthy"), "unhealthy", None),
        # due, but the probe is no longer known, or reminders were switched off: the
        # reminder is dropped, nothing is sent (a state the channel was not told is
        # caught up instead: test_the_state_a_maintenance_window_hid_is_told_when_it_ends)
        (REMIND, told_bad("unhealthy", next_reminder_at=T0), "unknown", None),
        (DEFAULT, told_bad("unhealthy", next_reminder_at=T0), "unhealthy", None),
    ],
)  # fmt: skip
def test_no_reminder_unless_due_for_a_told_bad_state_still_bad(
    rules: Rules, memory: Memory, state: str, after: datetime | None
) -> None:
    told = on_clock(rules, memory, T0, state)
    assert told.type is None
    assert told.memory.next_reminder_at == after
    assert told.memory.reminders_sent == memory.reminders_sent
