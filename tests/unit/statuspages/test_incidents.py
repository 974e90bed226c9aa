"""Incidents from health transitions, and their causes in customer words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statuspages.incidents import Incident, cause_text, human_duration, incidents
from store.state_history import StateChange, StateHistory
from thresholds.states import State, severity

H = timedelta(hours=1)
START = datetime(2026, 10, 1, tzinfo=UTC)
TRUNK = "Primary SIP Trunk"
BAD = (State.DEGRADED, State.UNHEALTHY)


def _reason(state: str, **fields: Any) -> dict[str, Any]:
    return {"state": state, "rule": "critical", "text": "", **fields}


def _history(
    before: str, *changes: tuple[int, str] | tuple[int, str, list[dict[str, Any]]]
) -> StateHistory:
    return StateHistory(
        before=before,
        changes=[
            StateChange(START + hours * H, state, rest[0] if rest else [])
            for hours, state, *rest in changes
        ],
    )


def _found(history: StateHistory) -> list[Incident]:
    return incidents(history, component=TRUNK, component_id="c1", start=START)


def _spans(found: list[Incident]) -> list[tuple[datetime, datetime | None, State]]:
    return [(i.started, i.ended, i.worst) for i in found]


# --- incidents() ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        pytest.param(_history("healthy"), [], id="always-healthy"),
        pytest.param(_history("unknown"), [], id="never-reported"),
        pytest.param(
            _history("healthy", (2, "degraded"), (3, "healthy")),
            [(START + 2 * H, START + 3 * H, State.DEGRADED)],
            id="degraded-then-healthy",
        ),
        pytest.param(
            _history("healthy", (2, "unhealthy"), (5, "healthy")),
            [(START + 2 * H, START + 5 * H, State.UNHEALTHY)],
            id="unhealthy-then-healthy",
        ),
        pytest.param(
            _history("unknown", (1, "degraded"), (4, "unknown")),
            [(START + 1 * H, START + 4 * H, State.DEGRADED)],
            id="opens-from-no-data-and-unknown-ends-it",
        ),
        pytest.param(
            _history("healthy", (2, "degraded"), (3, "unhealthy"), (6, "healthy")),
            [(START + 2 * H, START + 6 * H, State.UNHEALTHY)],
            id="escalation-keeps-the-start",
        ),
        pytest.param(
            _history("healthy", (2, "unhealthy"), (3, "degraded"), (6, "healthy")),
            [(START + 2 * H, START + 6 * H, State.UNHEALTHY)],
            id="easing-to-degraded-is-the-same-incident",
        ),
        pytest.param(
            _history("degraded", (3, "healthy")),
            [(START, START + 3 * H, State.DEGRADED)],
            id="bad-before-start-opens-at-start",
        ),
        pytest.param(
            _history("unhealthy"),
            [(START, None, State.UNHEALTHY)],
            id="bad-throughout-is-open",
        ),
        pytest.param(
            _history("healthy", (2, "degraded")),
            [(START + 2 * H, None, State.DEGRADED)],
            id="still-open-at-the-end",
        ),
        pytest.param(
            _history("healthy", (1, "degraded"), (2, "healthy"), (5, "unhealthy"), (6, "unknown")),
            [
                (START + 1 * H, START + 2 * H, State.DEGRADED),
                (START + 5 * H, START + 6 * H, State.UNHEALTHY),
            ],
            id="two-incidents-oldest-first",
        ),
        pytest.param(
            _history("healthy", (1, "healthy"), (2, "unknown"), (3, "healthy")),
            [],
            id="healthy-and-unknown-are-no-incident",
        ),
        pytest.param(
            _history("degraded", (1, "unhealthy"), (2, "unknown"), (3, "degraded")),
            [(START, START + 2 * H, State.UNHEALTHY), (START + 3 * H, None, State.DEGRADED)],
            id="carried-in-escalates-then-a-new-one-opens",
        ),
    ],
)
def test_incident_periods(
    history: StateHistory, expected: list[tuple[datetime, datetime | None, State]]
) -> None:
    assert _spans(_found(history)) == expected


def test_incident_names_its_component() -> None:
    [found] = _found(_history("healthy", (1, "degraded"), (2, "healthy")))
    assert (found.component, found.component_id) == (TRUNK, "c1")


def test_opening_cause_comes_from_the_opening_reasons() -> None:
    history = _history(
        "healthy", (1, "degraded", [_reason("degraded", metric="jitter_ms", value=45.2)])
    )
    [found] = _found(history)
    assert found.cause == f"Jitter rose to 45 ms on {TRUNK}"


def test_escalation_takes_the_unhealthy_cause() -> None:
    history = _history(
        "healthy",
        (1, "degraded", [_reason("degraded", metric="jitter_ms", value=45)]),
        (2, "unhealthy", [_reason("unhealthy", metric="mos", value=3.1)]),
        (3, "healthy"),
    )
    [found] = _found(history)
    assert found.started == START + H and found.worst is State.UNHEALTHY
    assert found.cause == f"MOS fell to 3.1 on {TRUNK}"


def test_easing_keeps_the_worst_cause() -> None:
    history = _history(
        "healthy",
        (1, "unhealthy", [_reason("unhealthy", rule="outcome")]),
        (2, "degraded", [_reason("degraded", metric="jitter_ms", value=45)]),
    )
    [found] = _found(history)
    assert found.cause == f"Test calls failed on {TRUNK}" and found.ended is None


def test_same_state_again_keeps_the_first_cause() -> None:
    history = _history(
        "healthy",
        (1, "degraded", [_reason("degraded", metric="jitter_ms", value=45)]),
        (2, "degraded", [_reason("degraded", metric="loss_pct", value=5)]),
    )
    [found] = _found(history)
    assert found.cause == f"Jitter rose to 45 ms on {TRUNK}"


@pytest.mark.parametrize(
    ("before", "cause"), [("degraded", "was degraded"), ("unhealthy", "was unavailable")]
)
def test_carried_in_incident_has_a_generic_cause(before: str, cause: str) -> None:
    [found] = _found(_history(before))
    assert found.cause == f"{TRUNK} {cause}"


def test_carried_in_incident_starts_when_its_bad_stretch_began() -> None:
    began = START - 30 * H
    history = StateHistory(before="unhealthy", changes=[StateChange(START + H, "healthy", [])])
    assert _spans(_found(history)) == [(START, START + H, State.UNHEALTHY)]
    history = StateHistory(before="unhealthy", changes=history.changes, bad_since=began)
    assert _spans(_found(history)) == [(began, START + H, State.UNHEALTHY)]


def test_duration_of_open_and_closed_incidents() -> None:
    closed, opened = _found(_history("healthy", (1, "degraded"), (3, "healthy"), (5, "unhealthy")))
    now = START + 10 * H
    assert closed.duration(now) == 2 * H
    assert opened.duration(now) == 5 * H


_STATES = st.sampled_from([s.value for s in State])


@given(
    before=_STATES,
    moves=st.lists(st.tuples(st.integers(1, 5), _STATES), max_size=25),
)
def test_incidents_are_the_maximal_bad_runs(before: str, moves: list[tuple[int, str]]) -> None:
    """Reference model: each maximal run of degraded/unhealthy states is one incident,
    from the run's first moment to the first healthy/unknown after it, worst of the run."""
    hours, changes = 0, []
    for step, state in moves:
        hours += step
        changes.append((hours, state))
    history = _history(before, *changes)
    timeline = [(START, State(before)), *((START + h * H, State(s)) for h, s in changes)]
    expected: list[tuple[datetime, datetime | None, State]] = []
    run: list[tuple[datetime, State]] = []
    for at, state in timeline:
        if state in BAD:
            run.append((at, state))
        elif run:
            expected.append((run[0][0], at, max((s for _, s in run), key=severity)))
            run = []
    if run:
        expected.append((run[0][0], None, max((s for _, s in run), key=severity)))
    found = _found(history)
    assert _spans(found) == expected
    assert all(i.ended is not None for i in found[:-1])


# --- cause_text() --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metric", "value", "state", "text"),
    [
        ("mos", 3.1, "unhealthy", "MOS fell to 3.1 on X"),
        ("pesq_mos", 3.14, "degraded", "MOS fell to 3.1 on X"),
        ("emodel_mos", 2.96, "unhealthy", "MOS fell to 3.0 on X"),
        ("r_factor", 65.04, "degraded", "R-factor fell to 65.0 on X"),
        ("jitter_ms", 45, "degraded", "Jitter rose to 45 ms on X"),
        ("jitter_ms", 45.4, "degraded", "Jitter rose to 45 ms on X"),
        ("rtt_ms", 312.0, "degraded", "Round-trip time rose to 312 ms on X"),
        ("pdd_ms", 4200, "unhealthy", "Post-dial delay rose to 4200 ms on X"),
        ("setup_ms", 950.0, "degraded", "Call setup time rose to 950 ms on X"),
        ("register_ms", 1500, "degraded", "Registration time rose to 1500 ms on X"),
        ("latency_ms", 820.0, "degraded", "Response time rose to 820 ms on X"),
        ("loss_pct", 5, "unhealthy", "Packet loss rose to 5.0 % on X"),
        ("loss_pct", 2.25, "degraded", "Packet loss rose to 2.2 % on X"),
        ("asr_pct", 80, "degraded", "Answer-seizure ratio fell to 80.0 % on X"),
        ("load_cpu", 0.95, "unhealthy", "CPU load rose to 95 % on X"),
        ("load_ram", 0.875, "degraded", "Memory load rose to 88 % on X"),
    ],
)
def test_metric_phrasing(metric: str, value: float, state: str, text: str) -> None:
    reason = _reason(state, metric=metric, value=value, location="ams-1")
    assert cause_text([reason], State(state), "X") == text


@pytest.mark.parametrize(
    ("reasons", "state", "text"),
    [
        pytest.param(
            [_reason("unhealthy", rule="outcome", location="fra")],
            State.UNHEALTHY,
            "Test calls failed on X",
            id="outcome",
        ),
        pytest.param([], State.DEGRADED, "X was degraded", id="no-reasons-degraded"),
        pytest.param([], State.UNHEALTHY, "X was unavailable", id="no-reasons-unhealthy"),
        pytest.param(
            [_reason("unhealthy", rule="push_dead", value=600.0)],
            State.UNHEALTHY,
            "X was unavailable",
            id="no-metric",
        ),
        pytest.param(
            [_reason("degraded", metric="sip_code", value=503)],
            State.DEGRADED,
            "X was degraded",
            id="unknown-metric",
        ),
        pytest.param(
            [_reason("degraded", metric="mos", value=None)],
            State.DEGRADED,
            "X was degraded",
            id="metric-without-value",
        ),
        pytest.param(
            [_reason("degraded", metric="mos", value="3.1")],
            State.DEGRADED,
            "X was degraded",
            id="value-not-a-number",
        ),
        pytest.param(
            [
                _reason("degraded", metric="jitter_ms", value=45),
                _reason("unhealthy", metric="mos", value=2.4),
            ],
            State.UNHEALTHY,
            "MOS fell to 2.4 on X",
            id="reasons-of-another-state-skipped",
        ),
        pytest.param(
            [_reason("degraded", metric="jitter_ms", value=45)],
            State.UNHEALTHY,
            "X was unavailable",
            id="only-other-state-reasons",
        ),
        pytest.param(
            [_reason("unhealthy", rule="outcome"), _reason("unhealthy", metric="mos", value=2.4)],
            State.UNHEALTHY,
            "Test calls failed on X",
            id="first-deciding-reason-wins",
        ),
        pytest.param(
            [
                _reason("unhealthy", metric="sip_code", value=5),
                _reason("unhealthy", rule="outcome"),
            ],
            State.UNHEALTHY,
            "Test calls failed on X",
            id="unusable-reason-skipped-for-next",
        ),
        pytest.param(
            [_reason("degraded", rule="outcome")],
            State.UNHEALTHY,
            "X was unavailable",
            id="outcome-of-another-state-skipped",
        ),
        pytest.param(
            [{"metric": "mos", "value": 3.1}],
            State.DEGRADED,
            "X was degraded",
            id="reason-without-state",
        ),
    ],
)
def test_cause_rules(reasons: list[dict[str, Any]], state: State, text: str) -> None:
    assert cause_text(reasons, state, "X") == text


_METRIC_NAMES = [
    "mos", "pesq_mos", "emodel_mos", "r_factor", "jitter_ms", "loss_pct", "rtt_ms", "pdd_ms",
    "setup_ms", "register_ms", "asr_pct", "latency_ms", "load_cpu", "load_ram",
]  # fmt: skip


@given(
    metric=st.sampled_from([*_METRIC_NAMES, None, "unknown_metric"]),
    value=st.floats(-1e6, 1e6, allow_nan=False),
    state=st.sampled_from(BAD),
    rule=st.sampled_from(["warning", "critical", "outcome", "push_dead"]),
    location=st.text(st.characters(categories=["L"]), min_size=1, max_size=12),
)
def test_locations_and_targets_never_appear(
    metric: str | None, value: float, state: State, rule: str, location: str
) -> None:
    place = f"LOC~{location}"
    target = f"sip:{location}@carrier.example"
    reason = {
        "state": state.value,
        "rule": rule,
        "metric": metric,
        "value": value,
        "location": place,
        "text": f"{metric} {value} at {place} calling {target}",
    }
    text = cause_text([reason], state, TRUNK)
    assert place not in text and target not in text and "~" not in text and "@" not in text
    assert text.endswith(TRUNK) or text in {f"{TRUNK} was degraded", f"{TRUNK} was unavailable"}


def test_state_enum_values_in_reasons_match() -> None:
    reason = {"state": State.DEGRADED, "metric": "mos", "value": 3.4}
    assert cause_text([reason], State.DEGRADED, "X") == "MOS fell to 3.4 on X"


# --- human_duration() ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("span", "text"),
    [
        (timedelta(0), "under a minute"),
        (timedelta(seconds=59.9), "under a minute"),
        (timedelta(seconds=-30), "under a minute"),
        (timedelta(minutes=1), "1 min"),
        (timedelta(minutes=45, seconds=59), "45 min"),
        (timedelta(hours=1), "1 h"),
        (timedelta(hours=2, minutes=5), "2 h 5 min"),
        (timedelta(days=1), "1 d"),
        (timedelta(days=1, minutes=3), "1 d 3 min"),
        (timedelta(days=3, hours=4, minutes=5, seconds=30), "3 d 4 h 5 min"),
        (timedelta(days=400), "400 d"),
    ],
)
def test_human_duration(span: timedelta, text: str) -> None:
    assert human_duration(span) == text


@given(st.integers(60, 10**8))
def test_human_duration_adds_back_to_whole_minutes(seconds: int) -> None:
    units = {"d": 24 * 60, "h": 60, "min": 1}
    words = human_duration(timedelta(seconds=seconds)).split()
    total = sum(int(n) * units[u] for n, u in zip(words[::2], words[1::2], strict=True))
    assert total == seconds // 60
