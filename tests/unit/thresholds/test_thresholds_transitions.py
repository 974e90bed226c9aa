"""The pure half of judging: policy defaults, history depth and what an evaluation changes."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from thresholds.evaluate import Observation, evaluate
from thresholds.policy import HISTORY_CAP, history_depth, probe_policy
from thresholds.rules import Policy, Rule
from thresholds.transitions import diff

T0 = datetime(2025, 1, 1, tzinfo=UTC)
LATENCY = Rule(metric="latency_ms", warning=100.0)


@dataclass
class Row:
    state: str
    reasons: list[dict[str, Any]]


def obs(minute: int, latency: float, location: str = "ams") -> Observation:
    return Observation(
        run_id=f"{location}-{minute}",
        at=T0 + timedelta(minutes=minute),
        location=location,
        ok=True,
        outcome="ok",
        values={"latency_ms": latency},
    )


def test_policy_defaults_turn_silence_unknown_or_dead() -> None:
    assert probe_policy({}, kind="tcp", interval_s=60, options={}).stale_after_s == 240.0
    assert probe_policy({"stale_after_s": 5}, kind="tcp", interval_s=60, options={}) == Policy(
        stale_after_s=5
    )
    push = probe_policy({}, kind="push", interval_s=60, options={"dead_after_s": 30})
    assert (push.push_dead_after_s, push.stale_after_s) == (30.0, None)
    assert probe_policy({}, kind="push", interval_s=60, options={}).push_dead_after_s == 60.0


def test_history_depth_follows_streaks_and_the_asr_window_up_to_a_cap() -> None:
    assert history_depth(Policy(failures_to_unhealthy=2), [LATENCY]) == 9
    assert history_depth(Policy(asr_window=25), [Rule(metric="asr_pct", warning=90.0)]) == 25
    assert history_depth(Policy(asr_window=99), [Rule(metric="scr_pct", warning=90.0)]) == (
        HISTORY_CAP
    )


def test_a_first_evaluation_writes_every_state_and_a_transition_dated_by_its_result() -> None:
    history = [obs(0, 20.0), obs(1, 250.0)]
    now = T0 + timedelta(minutes=5)
    found = diff(evaluate(history, [LATENCY], Policy(), now), history, {}, now)
    assert [(s.location, s.state, s.at) for s in found.states] == [
        ("ams", "degraded", history[-1].at),
        ("", "degraded", history[-1].at),
    ]
    assert found.transition is not None
    assert (found.transition.from_state, found.transition.to_state) == ("unknown", "degraded")
    assert found.transition.at == history[-1].at
    assert found.transition.cause == found.transition.reasons[0]["text"]


def test_an_unchanged_state_rewrites_only_the_overall_row() -> None:
    history = [obs(0, 20.0)]
    now = T0 + timedelta(minutes=1)
    evaluation = evaluate(history, [LATENCY], Policy(), now)
    recorded = {"ams": Row("healthy", []), "": Row("healthy", [])}
    found = diff(evaluation, history, recorded, now)
    assert [(s.location, s.evaluated_at) for s in found.states] == [("", now)]
    assert found.transition is None


def test_silence_is_dated_now() -> None:
    history = [obs(0, 20.0)]
    now = T0 + timedelta(hours=1)
    evaluation = evaluate(history, [LATENCY], Policy(stale_after_s=60), now)
    found = diff(evaluation, history, {"": Row("healthy", [])}, now)
    assert found.transition is not None
    assert (found.transition.to_state, found.transition.at) == ("unknown", now)
