"""A probe's health from its observations: per location, then across locations.

Deterministic and independent of input order: observations are sorted by
(at, run_id, then their other fields) and a (location, run_id) pair counts once.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from types import MappingProxyType

from thresholds.hysteresis import settle
from thresholds.judge import Observation, judge
from thresholds.metrics import ASR, SCR
from thresholds.quorum import rollup
from thresholds.reasons import Reason, Verdict, breach_reasons, merge
from thresholds.rules import Policy, Rule
from thresholds.states import State

__all__ = [
    "Evaluation",
    "Observation",
    "Reason",
    "Settled",
    "combine",
    "evaluate",
    "judge",
    "next_change",
    "settle_locations",
]


@dataclass(frozen=True, kw_only=True, slots=True)
class Evaluation:
    """The probe's state, the reasons that decided it and each location's state."""

    state: State
    reasons: tuple[Reason, ...]
    locations: Mapping[str, State]


@dataclass(frozen=True, kw_only=True, slots=True)
class Settled:
    """A location's verdict from its runs alone, before the clock judges its silence.

    It changes only when the location reports (or its oldest run leaves the history
    window), so judging keeps it between passes and re-reads only locations that reported.
    """

    verdict: Verdict
    newest: datetime
    oldest: datetime


def evaluate(
    observations: Iterable[Observation], rules: Sequence[Rule], policy: Policy, now: datetime
) -> Evaluation:
    """Judge each run, apply hysteresis, ASR and staleness per location, then the quorum."""
    return combine(settle_locations(observations, rules, policy), policy, now)


def settle_locations(
    observations: Iterable[Observation], rules: Sequence[Rule], policy: Policy
) -> dict[str, Settled]:
    """Each location's verdict from its runs (hysteresis, ASR and SCR windows)."""
    by_location: dict[str, list[Observation]] = {}
    for obs in _unique(observations):
        by_location.setdefault(obs.location, []).append(obs)
    return {name: _settle(runs, rules, policy) for name, runs in sorted(by_location.items())}


def combine(settled: Mapping[str, Settled], policy: Policy, now: datetime) -> Evaluation:
    """Staleness per location at ``now``, then the quorum across locations."""
    verdicts = {
        name: _freshness(found.verdict, name, found.newest, policy, now)
        for name, found in sorted(settled.items())
    }
    state, reasons = rollup(verdicts, policy.quorum)
    locations = MappingProxyType({name: found[0] for name, found in verdicts.items()})
    return Evaluation(state=state, reasons=reasons, locations=locations)


def next_change(
    settled: Settled, policy: Policy, now: datetime, window: timedelta
) -> datetime | None:
    """The first moment after ``now`` when time alone changes the location's verdict:
    it turns stale, its push silence turns dead, or its oldest run leaves the ``window``
    of history judging reads (so a location that never reports again leaves it too)."""
    bounds = (policy.stale_after_s, policy.push_dead_after_s)
    moments = [settled.newest + timedelta(seconds=b) for b in bounds if b is not None]
    later = [moment for moment in (*moments, settled.oldest + window) if moment > now]
    return min(later, default=None)


def _unique(observations: Iterable[Observation]) -> Iterable[Observation]:
    first: dict[tuple[str, str], Observation] = {}
    for obs in _sorted(observations):
        first.setdefault((obs.location, obs.run_id), obs)
    return first.values()


def _sorted(observations: Iterable[Observation]) -> list[Observation]:
    """Sorted by :func:`_order`, whose first fields nearly always decide: sorted by those
    alone, and by the whole key (costly: every value's repr) only if two tie on them."""
    found = sorted(observations, key=_first)
    keys = [_first(obs) for obs in found]
    if any(a == b for a, b in pairwise(keys)):
        found.sort(key=_order)
    return found


def _first(obs: Observation) -> tuple[datetime, str, str]:
    return (obs.at, obs.run_id, obs.location)


def _order(obs: Observation) -> tuple[object, ...]:
    values = tuple(sorted((name, repr(value)) for name, value in obs.values.items()))
    calls = (repr(obs.answered), repr(obs.completed))
    return (obs.at, obs.run_id, obs.location, obs.ok, obs.outcome, *calls, values)


def _settle(runs: Sequence[Observation], rules: Sequence[Rule], policy: Policy) -> Settled:
    name = runs[-1].location
    found = settle((judge(obs, rules, policy) for obs in runs), name, policy)
    found = merge(found, _window(runs, rules, policy, ASR, [obs.answered for obs in runs]))
    found = merge(found, _window(runs, rules, policy, SCR, [obs.completed for obs in runs]))
    return Settled(verdict=found, newest=runs[-1].at, oldest=runs[0].at)


def _window(
    runs: Sequence[Observation],
    rules: Sequence[Rule],
    policy: Policy,
    metric: str,
    flags: Sequence[bool | None],
) -> list[Reason]:
    """A ratio over the newest ``asr_window`` calls (ASR: answered, SCR: completed)."""
    calls = [flag for flag in flags if flag is not None][-policy.asr_window :]
    if not calls:
        return []
    value = 100.0 * sum(calls) / len(calls)
    scope = f" over {len(calls)} calls"
    name = runs[-1].location
    rule_id = metric.removesuffix("_pct")
    return [
        reason
        for rule in rules
        if rule.metric == metric
        for reason in breach_reasons(rule, value, name, rule_id=rule_id, scope=scope)
    ]


def _freshness(
    found: Verdict, location: str, newest: datetime, policy: Policy, now: datetime
) -> Verdict:
    """Stale turns a location unknown; push silence turns it unhealthy, and wins over stale."""
    age = (now - newest).total_seconds()
    stale = policy.stale_after_s
    if stale is not None and age >= stale:
        found = State.UNKNOWN, (_silent(State.UNKNOWN, "stale", location, age, stale),)
    dead = policy.push_dead_after_s
    if dead is not None and age >= dead:
        found = merge(found, [_silent(State.UNHEALTHY, "push_dead", location, age, dead)])
    return found


def _silent(state: State, rule: str, location: str, age: float, bound: float) -> Reason:
    after = "stale" if state is State.UNKNOWN else "dead"
    return Reason(
        state=state,
        rule=rule,
        value=age,
        bound=bound,
        location=location,
        text=f"no report from {location} for {age:.0f} s, {after} after {bound:g} s",
    )
