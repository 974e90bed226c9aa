"""What one evaluation changes: the state rows to write and the overall transition.

Pure: the caller reads what was recorded before and writes what :func:`diff` returns.
"""

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Protocol

from thresholds.evaluate import Evaluation
from thresholds.judge import Observation
from thresholds.reasons import Reason
from thresholds.states import State


class Recorded(Protocol):
    """A state as recorded at one location."""

    @property
    def state(self) -> str: ...

    @property
    def reasons(self) -> list[dict[str, Any]]: ...


@dataclass(frozen=True, kw_only=True, slots=True)
class StateRecord:
    """A probe's state at one location ('' for overall) as just evaluated."""

    location: str
    state: str
    at: datetime
    reasons: list[dict[str, Any]]
    evaluated_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class StateTransition:
    """A change of a probe's overall state, as recorded."""

    at: datetime
    from_state: str
    to_state: str
    reasons: list[dict[str, Any]]


@dataclass(frozen=True, kw_only=True, slots=True)
class Transition(StateTransition):
    """A change of a probe's overall state as judged, with one line saying why."""

    cause: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Diff:
    """What to write after an evaluation."""

    states: list[StateRecord]
    transition: Transition | None


def diff(
    evaluation: Evaluation,
    observations: Sequence[Observation],
    recorded: Mapping[str, Recorded],
    now: datetime,
) -> Diff:
    """The overall state always (its ``evaluated_at`` says the probe was judged), a
    location's only when its state or reasons changed, and the transition if the overall
    state moved. Silence is dated ``now``; a result-driven change when the result was."""
    return diff_at(evaluation, max((obs.at for obs in observations), default=None), recorded, now)


def diff_at(
    evaluation: Evaluation, newest: datetime | None, recorded: Mapping[str, Recorded], now: datetime
) -> Diff:
    """:func:`diff` knowing only the newest observation's time (None: no observation)."""
    changed_at = newest if evaluation.state is not State.UNKNOWN and newest is not None else now
    newest = newest or now
    reasons = [reason_json(r) for r in evaluation.reasons]
    overall = StateRecord(
        location="",
        state=evaluation.state.value,
        at=changed_at,
        reasons=reasons,
        evaluated_at=now,
    )
    states = [*_locations(evaluation, recorded, newest, now), overall]
    previous = recorded.get("")
    before = previous.state if previous else State.UNKNOWN.value
    if before == evaluation.state.value:
        return Diff(states=states, transition=None)
    transition = Transition(
        at=changed_at,
        from_state=before,
        to_state=evaluation.state.value,
        reasons=reasons,
        cause=cause_of(evaluation),
    )
    return Diff(states=states, transition=transition)


def _locations(
    evaluation: Evaluation, recorded: Mapping[str, Recorded], newest: datetime, now: datetime
) -> list[StateRecord]:
    records = []
    for location, state in evaluation.locations.items():
        reasons = [reason_json(r) for r in evaluation.reasons if r.location == location]
        before = recorded.get(location)
        if before is None or before.state != state.value or before.reasons != reasons:
            records.append(
                StateRecord(
                    location=location,
                    state=state.value,
                    at=newest,
                    reasons=reasons,
                    evaluated_at=now,
                )
            )
    return records


def reason_json(reason: Reason) -> dict[str, Any]:
    """A reason as stored and served (JSON)."""
    data = asdict(reason)
    data["state"] = reason.state.value
    return data


def reason_of(data: Mapping[str, Any]) -> Reason:
    """A reason back from its JSON (:func:`reason_json`)."""
    return Reason(**{**data, "state": State(data["state"])})


def cause_of(evaluation: Evaluation) -> str:
    """One line saying why: the first deciding reason's text."""
    return evaluation.reasons[0].text if evaluation.reasons else evaluation.state.value
