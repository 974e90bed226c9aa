import random
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from thresholds.evaluate import Evaluation, Observation, evaluate
from thresholds.rules import Policy, Rule
from thresholds.states import State, worst

T0 = datetime(2025, 1, 1, tzinfo=UTC)
RULES = [
    Rule(metric="mos", warning=3.8, critical=3.5),
    Rule(metric="jitter_ms", warning=30.0),
    Rule(metric="asr_pct", warning=80.0, critical=50.0),
]

states = st.sampled_from(State)
observations = st.builds(
    Observation,
    run_id=st.sampled_from(["a", "b", "c", "d"]),
    at=st.integers(0, 30).map(lambda minute: T0 + timedelta(minutes=minute)),
    location=st.sampled_from(["ams", "fra", "nyc"]),
    ok=st.booleans(),
    outcome=st.sampled_from(["ok", "timeout", "sip_error (486)"]),
    values=st.fixed_dictionaries(
        {},
        optional={
            "mos": st.none() | st.floats(1.0, 4.5),
            "jitter_ms": st.floats(0.0, 60.0),
            "latency_ms": st.floats(0.0, 2000.0),
        },
    ),
    answered=st.none() | st.booleans(),
)
policies = st.builds(
    Policy,
    failures_to_unhealthy=st.integers(1, 3),
    successes_to_recover=st.integers(1, 3),
    quorum=st.integers(1, 3),
    asr_window=st.integers(1, 5),
    sick_after_ms=st.none() | st.just(500.0),
    stale_after_s=st.none() | st.floats(60.0, 1800.0),
    push_dead_after_s=st.none() | st.floats(60.0, 1800.0),
)
NOW = T0 + timedelta(minutes=30)


def run(obs: list[Observation], policy: Policy) -> Evaluation:
    return evaluate(obs, RULES, policy, NOW)


@given(st.lists(observations, max_size=12), policies, st.randoms(use_true_random=False))
def test_evaluate_ignores_input_order_and_duplicates(
    obs: list[Observation], policy: Policy, rnd: random.Random
) -> None:
    expected = run(obs, policy)
    shuffled = list(obs)
    rnd.shuffle(shuffled)
    assert run(shuffled, policy) == expected
    assert run(obs[::-1], policy) == expected
    assert run(obs + shuffled, policy) == expected
    assert run(iter(obs), policy) == expected  # type: ignore[arg-type]


@given(st.lists(observations, max_size=12), policies)
def test_evaluate_is_deterministic_and_explained(obs: list[Observation], policy: Policy) -> None:
    found = run(obs, policy)
    assert found == run(obs, policy)
    if found.state is not State.HEALTHY:
        assert any(reason.state is found.state for reason in found.reasons)


@given(st.lists(observations, max_size=12), st.none() | st.floats(60.0, 1800.0))
def test_quorum_one_is_the_worst_known_location(
    obs: list[Observation], stale_after_s: float | None
) -> None:
    found = run(obs, Policy(quorum=1, stale_after_s=stale_after_s))
    assert found.state is worst(found.locations.values())


@given(states, states)
def test_worst_is_commutative(a: State, b: State) -> None:
    assert worst([a, b]) is worst([b, a])


@given(states, states, states)
def test_worst_is_associative(a: State, b: State, c: State) -> None:
    assert worst([worst([a, b]), c]) is worst([a, worst([b, c])]) is worst([a, b, c])


@given(
    st.lists(st.booleans(), max_size=6),
    st.integers(1, 3),
    st.integers(1, 3),
    st.booleans(),
)
def test_earlier_runs_do_not_matter_beyond_the_hysteresis_window(
    earlier: list[bool], failures: int, successes: int, last_ok: bool
) -> None:
    window = max(failures, successes)
    kinds = [*earlier, *[last_ok] * window]
    runs = [
        Observation(
            run_id=str(minute),
            at=T0 + timedelta(minutes=minute),
            location="ams",
            ok=ok,
            outcome="ok" if ok else "timeout",
            values={"mos": 4.2},
        )
        for minute, ok in enumerate(kinds)
    ]
    policy = Policy(failures_to_unhealthy=failures, successes_to_recover=successes)
    found = evaluate(runs, RULES, policy, runs[-1].at)
    assert found.state is (State.HEALTHY if last_ok else State.UNHEALTHY)
