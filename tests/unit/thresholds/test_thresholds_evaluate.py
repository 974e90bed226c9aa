from datetime import UTC, datetime, timedelta

import pytest

from thresholds.evaluate import Evaluation, Observation, evaluate
from thresholds.rules import Policy, Rule
from thresholds.states import State

T0 = datetime(2025, 1, 1, tzinfo=UTC)
MOS = Rule(metric="mos", warning=3.8, critical=3.5)
RUNS = {"H": 4.2, "D": 3.6, "U": None}  # U: a failed run (timeout)
H, D, U, N = State.HEALTHY, State.DEGRADED, State.UNHEALTHY, State.UNKNOWN


def obs(
    minute: int,
    kind: str = "H",
    location: str = "ams",
    *,
    answered: bool | None = None,
    completed: bool | None = None,
    values: dict[str, float | None] | None = None,
) -> Observation:
    return Observation(
        run_id=f"{location}-{minute}",
        at=T0 + timedelta(minutes=minute),
        location=location,
        ok=kind != "U",
        outcome="ok" if kind != "U" else "timeout",
        values=values if values is not None else {"mos": RUNS[kind]},
        answered=answered,
        completed=completed,
    )


def sequence(kinds: str, location: str = "ams") -> list[Observation]:
    return [obs(minute, kind, location) for minute, kind in enumerate(kinds)]


def at_end(observations: list[Observation], **policy: float | None) -> Evaluation:
    now = max(o.at for o in observations) if observations else T0
    return evaluate(observations, [MOS], Policy(**policy), now)  # type: ignore[arg-type]


# Each row: the runs in time order and the location state after each run,
# with failures_to_unhealthy=3 and successes_to_recover=2.
HYSTERESIS_3_2 = [
    ("H", [H]),
    ("U", [N]),
    ("UU", [N, N]),
    ("UUU", [N, N, U]),
    ("HUU", [H, H, H]),
    ("HUUU", [H, H, H, U]),
    ("HUUUU", [H, H, H, U, U]),
    ("HUUHUU", [H, H, H, H, H, H]),
    ("UUUH", [N, N, U, U]),
    ("UUUHH", [N, N, U, U, H]),
    ("UUUHUH", [N, N, U, U, U, U]),
    ("UUUDD", [N, N, U, U, D]),
    ("UUUDH", [N, N, U, U, D]),
    ("UUUDHH", [N, N, U, U, D, H]),
    ("D", [D]),
    ("HD", [H, D]),
    ("DH", [D, D]),
    ("DHH", [D, D, H]),
    ("DHDHH", [D, D, D, D, H]),
    ("DU", [D, D]),
    ("DUUU", [D, D, D, U]),
]


@pytest.mark.parametrize(("kinds", "states"), HYSTERESIS_3_2)
def test_hysteresis_3_failures_2_successes(kinds: str, states: list[State]) -> None:
    runs = sequence(kinds)
    for count, expected in enumerate(states, start=1):
        found = at_end(runs[:count], failures_to_unhealthy=3, successes_to_recover=2)
        assert found.locations["ams"] is expected, kinds[:count]


def test_default_policy_fails_and_recovers_at_once() -> None:
    runs = sequence("HUHD")
    assert [at_end(runs[:n]).locations["ams"] for n in range(1, 5)] == [H, U, H, D]


def test_failure_reasons_count_toward_the_retry_limit() -> None:
    found = at_end(sequence("HUUU"), failures_to_unhealthy=3)
    assert found.state is U
    assert [(r.rule, r.text) for r in found.reasons] == [
        ("outcome", "timeout at ams, 3 of 3 failures")
    ]


def test_held_state_is_explained_by_hysteresis() -> None:
    found = at_end(sequence("HUU"), failures_to_unhealthy=3)
    assert found.state is H
    assert [(r.state, r.rule, r.text) for r in found.reasons] == [
        (H, "hysteresis", "timeout at ams, 2 of 3 failures, held healthy")
    ]


def test_recovery_hold_names_the_counts() -> None:
    found = at_end(sequence("UH"), successes_to_recover=2)
    assert found.state is U
    failure, reason = found.reasons
    assert (failure.rule, failure.text) == ("outcome", "timeout at ams, 1 of 1 failures")
    assert (reason.rule, reason.value, reason.bound) == ("hysteresis", 1.0, 2.0)
    assert reason.text == "held unhealthy at ams, 1 of 2 good runs to recover"


def test_held_degraded_keeps_the_reason_that_degraded_it() -> None:
    found = at_end(sequence("DH"), successes_to_recover=2)
    assert found.state is D
    assert [(r.rule, r.value) for r in found.reasons] == [("warning", 3.6), ("hysteresis", 1.0)]
    assert found.reasons[1].text == "held degraded at ams, 1 of 2 healthy runs to recover"
    held = at_end(sequence("DU"), failures_to_unhealthy=2)
    assert [(r.state, r.rule, r.value) for r in held.reasons] == [
        (D, "warning", 3.6),
        (D, "hysteresis", None),
    ]


QUORUM_CASES = [
    # (location states as run kinds, quorum, expected overall, quorum reason text or None)
    ("UH", 1, U, None),
    ("UH", 2, H, "1 of 2 locations unhealthy, quorum 2"),
    ("UU", 2, U, None),
    ("DH", 2, H, "1 of 2 locations degraded or worse, quorum 2"),
    ("UD", 2, D, "1 of 2 locations unhealthy, quorum 2"),
    ("UUH", 2, U, None),
    ("UHH", 2, H, "1 of 3 locations unhealthy, quorum 2"),
    ("UDH", 2, D, "1 of 3 locations unhealthy, quorum 2"),
    ("UDH", 3, H, "2 of 3 locations degraded or worse, quorum 3"),
    ("DDH", 2, D, None),
    ("U", 2, U, None),  # fewer known locations than the quorum: quorum = 1
]


@pytest.mark.parametrize(("kinds", "quorum", "expected", "text"), QUORUM_CASES)
def test_quorum(kinds: str, quorum: int, expected: State, text: str | None) -> None:
    runs = [obs(0, kind, f"loc{i}") for i, kind in enumerate(kinds)]
    found = at_end(runs, quorum=quorum)
    assert found.state is expected
    quorum_reasons = [r.text for r in found.reasons if r.rule == "quorum"]
    assert quorum_reasons == ([text] if text else [])


def test_overall_reasons_come_from_deciding_locations() -> None:
    runs = [obs(0, "U", "ams"), obs(0, "D", "fra"), obs(0, "H", "nyc")]
    found = at_end(runs, quorum=2)
    assert found.state is D
    assert [(r.location, r.rule) for r in found.reasons] == [
        ("ams", "outcome"),
        ("fra", "warning"),
        (None, "quorum"),
    ]
    assert dict(found.locations) == {"ams": U, "fra": D, "nyc": H}


def test_no_observations_is_unknown() -> None:
    found = evaluate([], [MOS], Policy(), T0)
    assert (found.state, dict(found.locations)) == (N, {})
    assert [r.rule for r in found.reasons] == ["no_data"]


def test_all_unknown_is_unknown_with_the_locations_reasons() -> None:
    runs = [obs(0, "U", "ams"), obs(0, "U", "fra")]
    found = at_end(runs, failures_to_unhealthy=2)
    assert found.state is N
    assert [r.rule for r in found.reasons] == ["hysteresis", "hysteresis", "no_data"]


def test_unknown_locations_are_ignored() -> None:
    runs = [obs(0, "U", "ams"), obs(0, "D", "fra")]
    found = at_end(runs, failures_to_unhealthy=2, quorum=2)
    assert found.state is D
    assert dict(found.locations) == {"ams": N, "fra": D}


@pytest.mark.parametrize(
    ("age_s", "expected", "rule"),
    [(299.0, U, "outcome"), (300.0, N, "stale"), (4000.0, N, "stale")],
)
def test_stale_location_is_unknown(age_s: float, expected: State, rule: str) -> None:
    runs = [obs(0, "U")]
    found = evaluate(runs, [MOS], Policy(stale_after_s=300.0), T0 + timedelta(seconds=age_s))
    assert found.locations["ams"] is expected
    assert found.reasons[0].rule == rule


def test_stale_reason_carries_age_and_bound() -> None:
    found = evaluate([obs(0)], [MOS], Policy(stale_after_s=300.0), T0 + timedelta(seconds=400))
    reason = found.reasons[0]
    assert (reason.state, reason.value, reason.bound, reason.location) == (N, 400.0, 300.0, "ams")
    assert reason.text == "no report from ams for 400 s, stale after 300 s"


def test_stale_location_leaves_the_others_deciding() -> None:
    runs = [obs(0, "U", "ams"), obs(10, "H", "fra")]
    found = evaluate(runs, [MOS], Policy(stale_after_s=300.0), T0 + timedelta(minutes=10))
    assert found.state is H
    assert dict(found.locations) == {"ams": N, "fra": H}


@pytest.mark.parametrize(("age_s", "expected"), [(59.0, H), (60.0, U), (7200.0, U)])
def test_push_dead_after(age_s: float, expected: State) -> None:
    policy = Policy(push_dead_after_s=60.0, stale_after_s=3600.0)
    found = evaluate([obs(0)], [MOS], policy, T0 + timedelta(seconds=age_s))
    assert found.state is expected
    if expected is U:
        assert [r.rule for r in found.reasons] == ["push_dead"]
        assert found.reasons[0].text == f"no report from ams for {age_s:.0f} s, dead after 60 s"


def asr_calls(answered: str) -> list[Observation]:
    return [
        obs(minute, "H" if flag == "1" else "U", answered=flag == "1")
        for minute, flag in enumerate(answered)
    ]


ASR_RULE = Rule(metric="asr_pct", warning=80.0, critical=50.0)


@pytest.mark.parametrize(
    ("answered", "window", "expected", "value"),
    [
        ("1111111111", 10, H, None),
        ("1111111110", 10, H, None),  # 90 %
        ("1111111100", 10, D, 80.0),  # at warning
        ("1111110000", 10, D, 60.0),
        ("1111100000", 10, U, 50.0),  # at critical
        ("0000011111", 5, H, None),  # only the last 5 calls count
        ("1111100000", 5, U, 0.0),
        ("11110", 5, D, 80.0),
    ],
)
def test_asr_window(answered: str, window: int, expected: State, value: float | None) -> None:
    runs = asr_calls(answered)
    # failures_to_unhealthy high enough that only ASR can fail the location
    found = evaluate(runs, [ASR_RULE], Policy(asr_window=window, failures_to_unhealthy=99), T0)
    assert found.locations["ams"] is expected
    asr = [r for r in found.reasons if r.rule == "asr"]
    assert [r.value for r in asr] == ([value] if value is not None else [])


def test_asr_reason_text_and_calls_without_answer_flag() -> None:
    runs = [*asr_calls("1100"), obs(10, "H"), obs(11, "H")]
    found = evaluate(runs, [ASR_RULE], Policy(failures_to_unhealthy=99), T0)
    assert found.state is U
    assert found.reasons[0].text == "asr_pct 50.00 equal to critical 50.00 over 4 calls at ams"


SCR_RULE = Rule(metric="scr_pct", warning=95.0, critical=80.0)


def test_a_trunk_that_answers_every_call_but_drops_some_turns_degraded_by_scr() -> None:
    # Every call answered (ASR 100 %), 1 in 10 dropped by the far end mid-call.
    runs = [obs(m, "D" if m == 4 else "H", answered=True, completed=m != 4) for m in range(10)]
    policy = Policy(failures_to_unhealthy=99)
    found = evaluate(runs, [ASR_RULE, SCR_RULE], policy, T0)
    assert found.state is D
    assert [(r.rule, r.value) for r in found.reasons] == [("scr", 90.0)]
    assert found.reasons[0].text == "scr_pct 90.00 below warning 95.00 over 10 calls at ams"


def test_scr_counts_unanswered_calls_as_not_completed() -> None:
    runs = [obs(m, answered=m < 8, completed=m < 8) for m in range(10)]
    found = evaluate(runs, [SCR_RULE], Policy(failures_to_unhealthy=99), T0)
    assert [(r.rule, r.value, r.state) for r in found.reasons] == [("scr", 80.0, U)]


def test_asr_without_rule_or_calls_is_ignored() -> None:
    assert evaluate(asr_calls("0000"), [], Policy(failures_to_unhealthy=99), T0).state is N
    assert evaluate([obs(0)], [ASR_RULE], Policy(), T0).state is H


def test_duplicate_run_ids_count_once() -> None:
    runs = [obs(0), obs(1, "U"), obs(1, "U"), obs(1, "U")]
    assert at_end(runs, failures_to_unhealthy=2).state is H


def test_equal_times_are_ordered_by_run_id() -> None:
    late = Observation(run_id="b", at=T0, location="ams", ok=True, outcome="ok", values={})
    early = Observation(run_id="a", at=T0, location="ams", ok=False, outcome="timeout", values={})
    assert evaluate([late, early], [], Policy(), T0).state is H
    assert evaluate([early, late], [], Policy(), T0).state is H
