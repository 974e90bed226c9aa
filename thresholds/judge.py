"""One run on its own: its outcome, every rule and Crisp's latency and load options."""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from thresholds.metrics import WINDOWED
from thresholds.reasons import Reason, Verdict, breach_reasons, describe, verdict
from thresholds.rules import Policy, Rule
from thresholds.states import State


@dataclass(frozen=True, kw_only=True, slots=True)
class Observation:
    """One probe run at one location.

    ``ok`` is whether the run succeeded; ``outcome`` its raw outcome text ("ok", "timeout",
    "sip_error (486)"); ``values`` are keyed by metric name (missing or None: not measured);
    ``answered`` says, for calls, whether the call was answered (feeds ASR) and
    ``completed`` whether it was set up and lasted until we hung up (feeds SCR).
    """

    run_id: str
    at: datetime
    location: str
    ok: bool
    outcome: str
    values: Mapping[str, float | None]
    answered: bool | None = None
    completed: bool | None = None


def judge(obs: Observation, rules: Sequence[Rule], policy: Policy) -> Verdict:
    """The worst state this run reaches with every reason for it; healthy has no reasons.

    A failed run is unhealthy (rule "outcome"). ASR and SCR rules are skipped: they
    judge a window of calls, in ``evaluate``.
    """
    return verdict([*_outcome(obs), *_rules(obs, rules), *_crisp(obs, policy)])


def _outcome(obs: Observation) -> Iterator[Reason]:
    if not obs.ok:
        text = f"{obs.outcome} at {obs.location}"
        yield Reason(state=State.UNHEALTHY, rule="outcome", location=obs.location, text=text)


def _rules(obs: Observation, rules: Sequence[Rule]) -> Iterator[Reason]:
    for rule in rules:
        value = obs.values.get(rule.metric)
        if rule.metric not in WINDOWED and value is not None:
            yield from breach_reasons(rule, value, obs.location)


def _crisp(obs: Observation, policy: Policy) -> Iterator[Reason]:
    checks = (
        ("latency_ms", "dead_after_ms", policy.dead_after_ms, State.UNHEALTHY, "dead_after"),
        ("latency_ms", "sick_after_ms", policy.sick_after_ms, State.DEGRADED, "sick_after"),
        ("load_cpu", "cpu_sick_above", policy.cpu_sick_above, State.DEGRADED, "load"),
        ("load_ram", "ram_sick_above", policy.ram_sick_above, State.DEGRADED, "load"),
    )
    for metric, label, bound, state, rule in checks:
        value = obs.values.get(metric)
        if bound is not None and value is not None and value >= bound:
            yield Reason(
                state=state,
                rule=rule,
                metric=metric,
                value=value,
                bound=bound,
                location=obs.location,
                text=describe(metric, value, label, bound, f" at {obs.location}"),
            )
