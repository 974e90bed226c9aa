from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from thresholds.evaluate import Observation, Reason, judge
from thresholds.metrics import METRICS, WINDOWED
from thresholds.rules import Policy, Rule
from thresholds.states import State

AT = datetime(2025, 1, 1, tzinfo=UTC)

# (warning, critical) per metric; ASR and SCR are judged over a window (test_thresholds_evaluate).
BOUNDS = {
    "mos": (3.8, 3.5),
    "pesq_mos": (3.8, 3.5),
    "emodel_mos": (3.8, 3.5),
    "r_factor": (70.0, 60.0),
    "jitter_ms": (30.0, 50.0),
    "loss_pct": (1.0, 5.0),
    "rtt_ms": (300.0, 600.0),
    "pdd_ms": (3000.0, 6000.0),
    "setup_ms": (4000.0, 8000.0),
    "register_ms": (500.0, 2000.0),
    "latency_ms": (200.0, 1000.0),
    "load_cpu": (0.7, 0.9),
    "load_ram": (0.8, 0.95),
}


def run(values: dict[str, float | None], *, ok: bool = True, outcome: str = "ok") -> Observation:
    return Observation(run_id="r1", at=AT, location="ams", ok=ok, outcome=outcome, values=values)


def boundary_cases() -> Iterator[object]:
    """Per metric: well inside, just inside, at warning, between, at critical, beyond."""
    for name, (warning, critical) in BOUNDS.items():
        step = (warning - critical) / 10  # towards better: + when higher is better
        cases = [
            (warning + 5 * step, State.HEALTHY),
            (warning + step, State.HEALTHY),
            (warning, State.DEGRADED),
            ((warning + critical) / 2, State.DEGRADED),
            (critical, State.UNHEALTHY),
            (critical - step, State.UNHEALTHY),
        ]
        for value, state in cases:
            yield pytest.param(name, value, state, id=f"{name}-{value:g}-{state}")


def test_table_covers_every_per_run_metric() -> None:
    assert set(BOUNDS) == set(METRICS) - set(WINDOWED)


@pytest.mark.parametrize(("metric", "value", "expected"), list(boundary_cases()))
def test_every_metric_at_its_boundaries(metric: str, value: float, expected: State) -> None:
    warning, critical = BOUNDS[metric]
    rule = Rule(metric=metric, warning=warning, critical=critical)
    state, reasons = judge(run({metric: value}), [rule], Policy())
    assert state is expected
    if expected is State.HEALTHY:
        assert reasons == ()
    else:
        level = "critical" if expected is State.UNHEALTHY else "warning"
        bound = critical if expected is State.UNHEALTHY else warning
        assert reasons == (
            Reason(
                state=expected,
                rule=level,
                metric=metric,
                value=value,
                bound=bound,
                location="ams",
                text=reasons[0].text,
            ),
        )
        assert reasons[0].text.startswith(f"{metric} {value:.2f} ")
        assert reasons[0].text.endswith(f" {level} {bound:.2f} at ams")


@pytest.mark.parametrize("metric", sorted(BOUNDS))
@pytest.mark.parametrize("level", ["warning", "critical"])
def test_single_bound_rules(metric: str, level: str) -> None:
    warning, critical = BOUNDS[metric]
    bound = warning if level == "warning" else critical
    rule = Rule(metric=metric, **{level: bound})
    expected = State.DEGRADED if level == "warning" else State.UNHEALTHY
    assert judge(run({metric: bound}), [rule], Policy())[0] is expected
    better = bound + (warning - critical)
    assert judge(run({metric: better}), [rule], Policy()) == (State.HEALTHY, ())


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3.1, "mos 3.10 below critical 3.50 at ams"),
        (3.5, "mos 3.50 equal to critical 3.50 at ams"),
        (3.7, "mos 3.70 below warning 3.80 at ams"),
    ],
)
def test_reason_text_names_the_measured_value(value: float, text: str) -> None:
    rule = Rule(metric="mos", warning=3.8, critical=3.5)
    assert judge(run({"mos": value}), [rule], Policy())[1][0].text == text


def test_unmeasured_values_are_not_judged() -> None:
    rules = [Rule(metric="mos", critical=3.5), Rule(metric="jitter_ms", critical=50.0)]
    assert judge(run({"mos": None}), rules, Policy()) == (State.HEALTHY, ())


@pytest.mark.parametrize("metric", WINDOWED)
def test_window_rules_are_not_judged_on_one_run(metric: str) -> None:
    rule = Rule(metric=metric, critical=50.0)
    assert judge(run({metric: 0.0}), [rule], Policy())[0] is State.HEALTHY


def test_worst_rule_wins_and_all_its_reasons_are_returned() -> None:
    rules = [
        Rule(metric="mos", warning=3.8, critical=3.5),
        Rule(metric="jitter_ms", warning=30.0, critical=50.0),
        Rule(metric="loss_pct", warning=1.0, critical=5.0),
    ]
    state, reasons = judge(run({"mos": 3.0, "jitter_ms": 40.0, "loss_pct": 6.0}), rules, Policy())
    assert state is State.UNHEALTHY
    assert [(r.metric, r.rule) for r in reasons] == [("mos", "critical"), ("loss_pct", "critical")]


@pytest.mark.parametrize("outcome", ["sip_error (486)", "timeout", "no_media"])
def test_failed_outcome_is_unhealthy(outcome: str) -> None:
    state, reasons = judge(run({}, ok=False, outcome=outcome), [], Policy())
    assert state is State.UNHEALTHY
    assert reasons == (
        Reason(state=State.UNHEALTHY, rule="outcome", location="ams", text=f"{outcome} at ams"),
    )


def test_failed_outcome_keeps_critical_metric_reasons() -> None:
    rules = [Rule(metric="mos", warning=3.8, critical=3.5), Rule(metric="rtt_ms", warning=300.0)]
    obs = run({"mos": 1.0, "rtt_ms": 400.0}, ok=False, outcome="timeout")
    state, reasons = judge(obs, rules, Policy())
    assert state is State.UNHEALTHY
    assert [r.rule for r in reasons] == ["outcome", "critical"]


CRISP = Policy(sick_after_ms=200.0, dead_after_ms=1000.0, cpu_sick_above=0.8, ram_sick_above=0.9)


@pytest.mark.parametrize(
    ("values", "state", "rule", "text"),
    [
        ({"latency_ms": 199.9}, State.HEALTHY, None, None),
        (
            {"latency_ms": 200.0},
            State.DEGRADED,
            "sick_after",
            "latency_ms 200.00 equal to sick_after_ms 200.00 at ams",
        ),
        ({"latency_ms": 999.0}, State.DEGRADED, "sick_after", None),
        (
            {"latency_ms": 1200.0},
            State.UNHEALTHY,
            "dead_after",
            "latency_ms 1200.00 above dead_after_ms 1000.00 at ams",
        ),
        ({"load_cpu": 0.79, "load_ram": 0.89}, State.HEALTHY, None, None),
        (
            {"load_cpu": 0.95},
            State.DEGRADED,
            "load",
            "load_cpu 0.95 above cpu_sick_above 0.80 at ams",
        ),
        (
            {"load_ram": 0.9},
            State.DEGRADED,
            "load",
            "load_ram 0.90 equal to ram_sick_above 0.90 at ams",
        ),
    ],
)
def test_crisp_latency_and_load(
    values: dict[str, float | None], state: State, rule: str | None, text: str | None
) -> None:
    found, reasons = judge(run(values), [], CRISP)
    assert found is state
    assert [r.rule for r in reasons] == ([rule] if rule else [])
    if text:
        assert reasons[0].text == text


def test_crisp_options_unset_judge_nothing() -> None:
    values: dict[str, float | None] = {"latency_ms": 1e6, "load_cpu": 1.0, "load_ram": 1.0}
    assert judge(run(values), [], Policy()) == (State.HEALTHY, ())
