import math

import pytest

from thresholds.metrics import METRICS
from thresholds.rules import InvalidRule, Policy, Rule
from thresholds.states import State, worst

EXPECTED_METRICS = {
    "mos",
    "pesq_mos",
    "emodel_mos",
    "r_factor",
    "jitter_ms",
    "loss_pct",
    "rtt_ms",
    "pdd_ms",
    "setup_ms",
    "register_ms",
    "asr_pct",
    "scr_pct",
    "latency_ms",
    "load_cpu",
    "load_ram",
}
HIGHER_IS_BETTER = {"mos", "pesq_mos", "emodel_mos", "r_factor", "asr_pct", "scr_pct"}


def test_metric_names_are_exactly_the_published_ones() -> None:
    assert set(METRICS) == EXPECTED_METRICS
    assert all(name == metric.name for name, metric in METRICS.items())


@pytest.mark.parametrize("name", sorted(EXPECTED_METRICS))
def test_metric_direction(name: str) -> None:
    assert METRICS[name].higher_is_better is (name in HIGHER_IS_BETTER)
    assert METRICS[name].unit and METRICS[name].description


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ([], State.UNKNOWN),
        ([State.UNKNOWN, State.UNKNOWN], State.UNKNOWN),
        ([State.UNKNOWN, State.HEALTHY], State.HEALTHY),
        ([State.HEALTHY, State.DEGRADED], State.DEGRADED),
        ([State.DEGRADED, State.UNHEALTHY, State.HEALTHY], State.UNHEALTHY),
        ([State.UNKNOWN, State.UNHEALTHY], State.UNHEALTHY),
    ],
)
def test_worst(states: list[State], expected: State) -> None:
    assert worst(states) is expected
    assert worst(iter(states)) is expected


@pytest.mark.parametrize(
    ("metric", "warning", "critical"),
    [
        ("mos", 3.8, 3.5),
        ("mos", 3.5, 3.5),
        ("mos", None, 3.5),
        ("mos", 3.8, None),
        ("jitter_ms", 30.0, 50.0),
        ("jitter_ms", 30.0, 30.0),
        ("load_cpu", None, 0.9),
    ],
)
def test_valid_rules(metric: str, warning: float | None, critical: float | None) -> None:
    rule = Rule(metric=metric, warning=warning, critical=critical)
    assert (rule.warning, rule.critical) == (warning, critical)


@pytest.mark.parametrize(
    ("metric", "warning", "critical", "message"),
    [
        ("status_code", 1.0, None, "unknown metric 'status_code'"),
        ("mos", None, None, "needs a warning or a critical bound"),
        ("mos", 3.5, 3.8, "mos critical 3.8 must be at or below warning 3.5"),
        ("jitter_ms", 50.0, 30.0, "jitter_ms critical 30 must be at or above warning 50"),
        ("loss_pct", math.nan, None, "warning bound must be finite"),
        ("rtt_ms", None, math.inf, "critical bound must be finite"),
    ],
)
def test_invalid_rules(
    metric: str, warning: float | None, critical: float | None, message: str
) -> None:
    with pytest.raises(InvalidRule, match=message):
        Rule(metric=metric, warning=warning, critical=critical)


def test_invalid_rule_is_a_value_error() -> None:
    assert issubclass(InvalidRule, ValueError)


def test_policy_defaults() -> None:
    policy = Policy()
    assert (policy.failures_to_unhealthy, policy.successes_to_recover) == (1, 1)
    assert (policy.quorum, policy.asr_window) == (1, 20)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"failures_to_unhealthy": 0}, "failures_to_unhealthy must be at least 1"),
        ({"successes_to_recover": 0}, "successes_to_recover must be at least 1"),
        ({"quorum": 0}, "quorum must be at least 1"),
        ({"asr_window": 0}, "asr_window must be at least 1"),
        ({"sick_after_ms": 0.0}, "sick_after_ms must be above 0"),
        ({"dead_after_ms": -1.0}, "dead_after_ms must be above 0"),
        ({"push_dead_after_s": math.inf}, "push_dead_after_s must be above 0 and a finite"),
        ({"stale_after_s": math.nan}, "stale_after_s must be above 0"),
        ({"cpu_sick_above": 1.5}, "cpu_sick_above must be above 0 and at most 1"),
        ({"ram_sick_above": 0.0}, "ram_sick_above must be above 0"),
        ({"sick_after_ms": 500.0, "dead_after_ms": 200.0}, "sick_after_ms 500 exceeds"),
    ],
)
def test_invalid_policies(fields: dict[str, float], message: str) -> None:
    with pytest.raises(InvalidRule, match=message):
        Policy(**fields)  # type: ignore[arg-type]


def test_valid_crisp_policy() -> None:
    policy = Policy(
        failures_to_unhealthy=3,
        sick_after_ms=200.0,
        dead_after_ms=200.0,
        push_dead_after_s=60.0,
        stale_after_s=3600.0,
        cpu_sick_above=1.0,
        ram_sick_above=0.9,
    )
    assert policy.dead_after_ms == 200.0
