"""Why a state was decided: reasons, verdicts and the worst-of merge."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeAlias

from thresholds.rules import Rule
from thresholds.states import State, worst


@dataclass(frozen=True, kw_only=True, slots=True)
class Reason:
    """One decision: the rule that made it, the measured value, the bound, a sentence."""

    state: State
    rule: str
    metric: str | None = None
    value: float | None = None
    bound: float | None = None
    location: str | None = None
    text: str


Verdict: TypeAlias = tuple[State, tuple[Reason, ...]]
"""A state with the reasons for it."""


def verdict(reasons: Iterable[Reason], default: State = State.HEALTHY) -> Verdict:
    """The worst state among ``reasons`` with the reasons at it; ``default`` when none."""
    found = tuple(reasons)
    if not found:
        return default, ()
    state = worst(reason.state for reason in found)
    return state, tuple(reason for reason in found if reason.state is state)


def merge(current: Verdict, extra: Iterable[Reason]) -> Verdict:
    """Worst of ``current`` and ``extra``; no extra reasons leave ``current`` as it is."""
    added = verdict(extra, default=State.UNKNOWN)
    if not added[1]:
        return current
    state = worst((current[0], added[0]))
    kept = current[1] if current[0] is state else ()
    return state, kept + (added[1] if added[0] is state else ())


def describe(metric: str, value: float, label: str, bound: float, where: str) -> str:
    """E.g. "mos 3.10 below critical 3.50 at ams"."""
    side = "equal to" if value == bound else "below" if value < bound else "above"
    return f"{metric} {value:.2f} {side} {label} {bound:.2f}{where}"


def breach_reasons(
    rule: Rule, value: float, location: str, *, rule_id: str | None = None, scope: str = ""
) -> Iterator[Reason]:
    """A reason per bound of ``rule`` that ``value`` reaches; ``rule_id`` defaults to the level."""
    for state, level, bound in rule.breaches(value):
        yield Reason(
            state=state,
            rule=rule_id or level,
            metric=rule.metric,
            value=value,
            bound=bound,
            location=location,
            text=describe(rule.metric, value, level, bound, f"{scope} at {location}"),
        )
