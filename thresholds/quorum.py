"""The probe as a whole from its locations: worst state that a quorum agrees on."""

from collections.abc import Iterable, Mapping

from thresholds.reasons import Reason, Verdict
from thresholds.states import State, severity

_LEVELS = (State.UNHEALTHY, State.DEGRADED, State.HEALTHY)


def rollup(locations: Mapping[str, Verdict], quorum: int) -> Verdict:
    """Worst state S with at least ``quorum`` known locations at S or worse.

    Unknown locations are ignored; the quorum shrinks to the number of known locations.
    Reasons: those of the locations at S or worse, plus a "quorum" reason when the
    quorum made the state better than the worst location.
    """
    known = {name: found for name, found in locations.items() if found[0] is not State.UNKNOWN}
    if not known:
        return State.UNKNOWN, (*_reasons(locations.values()), _no_data(len(locations)))
    needed = min(quorum, len(known))
    state = next(level for level in _LEVELS if _count(known, level) >= needed)
    deciders = [found for found in known.values() if severity(found[0]) >= severity(state)]
    return state, _reasons(deciders) + _quorum(known, state, needed)


def _count(known: Mapping[str, Verdict], level: State) -> int:
    return sum(severity(found[0]) >= severity(level) for found in known.values())


def _reasons(verdicts: Iterable[Verdict]) -> tuple[Reason, ...]:
    return tuple(reason for found in verdicts for reason in found[1])


def _quorum(known: Mapping[str, Verdict], state: State, needed: int) -> tuple[Reason, ...]:
    worse = _LEVELS[: _LEVELS.index(state)]
    count = _count(known, worse[-1]) if worse else 0
    if count == 0:
        return ()
    level = next(level for level in worse if _count(known, level) == count)
    suffix = "" if level is State.UNHEALTHY else " or worse"
    text = f"{count} of {len(known)} locations {level}{suffix}, quorum {needed}"
    return (Reason(state=state, rule="quorum", value=float(count), bound=float(needed), text=text),)


def _no_data(count: int) -> Reason:
    text = f"no data: none of {count} locations has a known state"
    return Reason(state=State.UNKNOWN, rule="no_data", text=text)
