"""Failure/success hysteresis: a location's state from its judged runs, oldest first.

From an initial UNKNOWN: a run judged unhealthy is a failure, and the location turns
unhealthy only after ``failures_to_unhealthy`` failures in a row; fewer leave it at its
previous state (so a location with nothing but too few failures stays UNKNOWN). A degraded
run degrades at once, unless the location is unhealthy. Leaving UNHEALTHY needs
``successes_to_recover`` runs in a row that did not fail (to DEGRADED) or that were healthy
(to HEALTHY); leaving DEGRADED for HEALTHY needs as many healthy runs. A held state is
explained by a reason with rule "hysteresis".
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace

from thresholds.reasons import Reason, Verdict
from thresholds.rules import Policy
from thresholds.states import State

HYSTERESIS = "hysteresis"


@dataclass(frozen=True, kw_only=True, slots=True)
class _Track:
    verdict: Verdict = (State.UNKNOWN, ())
    failures: int = 0
    good: int = 0
    healthy: int = 0


def settle(runs: Iterable[Verdict], location: str, policy: Policy) -> Verdict:
    """The state hysteresis allows after ``runs`` (judged, oldest first) at ``location``."""
    track = _Track()
    for run in runs:
        track = _step(track, run, location, policy)
    return track.verdict


def _step(track: _Track, run: Verdict, location: str, policy: Policy) -> _Track:
    # Tracks are built whole, not with dataclasses.replace: this runs for every judged run.
    if run[0] is State.UNHEALTHY:
        failed = _Track(verdict=track.verdict, failures=track.failures + 1)
        return _Track(verdict=_after_failure(failed, run[1], policy), failures=failed.failures)
    healthy = track.healthy + 1 if run[0] is State.HEALTHY else 0
    passed = _Track(verdict=track.verdict, good=track.good + 1, healthy=healthy)
    verdict = _after_success(passed, run, location, policy)
    return _Track(verdict=verdict, good=passed.good, healthy=healthy)


def _after_failure(track: _Track, reasons: tuple[Reason, ...], policy: Policy) -> Verdict:
    needed = policy.failures_to_unhealthy
    count = f", {min(track.failures, needed)} of {needed} failures"
    previous = track.verdict[0]
    if track.failures >= needed or previous is State.UNHEALTHY:
        return State.UNHEALTHY, tuple(replace(r, text=r.text + count) for r in reasons)
    held = tuple(
        replace(r, state=previous, rule=HYSTERESIS, text=f"{r.text}{count}, held {previous}")
        for r in reasons
    )
    return previous, _unheld(track.verdict[1]) + held


def _after_success(track: _Track, run: Verdict, location: str, policy: Policy) -> Verdict:
    allowed = _allowed(track, run[0], policy.successes_to_recover)
    if allowed is run[0]:
        return run
    previous, reasons = track.verdict
    kept = _unheld(reasons) if allowed is previous else ()
    return allowed, (*kept, _recovering(track, allowed, location, policy))


def _allowed(track: _Track, state: State, needed: int) -> State:
    previous = track.verdict[0]
    if previous is State.UNHEALTHY and track.good < needed:
        return State.UNHEALTHY
    bad = previous in {State.UNHEALTHY, State.DEGRADED}
    if bad and state is State.HEALTHY and track.healthy < needed:
        return State.DEGRADED
    return state


def _recovering(track: _Track, held: State, location: str, policy: Policy) -> Reason:
    needed = policy.successes_to_recover
    count, kind = (track.good, "good") if held is State.UNHEALTHY else (track.healthy, "healthy")
    return Reason(
        state=held,
        rule=HYSTERESIS,
        value=float(count),
        bound=float(needed),
        location=location,
        text=f"held {held} at {location}, {count} of {needed} {kind} runs to recover",
    )


def _unheld(reasons: tuple[Reason, ...]) -> tuple[Reason, ...]:
    return tuple(reason for reason in reasons if reason.rule != HYSTERESIS)
