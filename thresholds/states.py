"""Health states and the worst-of rollup."""

from collections.abc import Iterable
from enum import StrEnum


class State(StrEnum):
    """A component's health; Crisp's healthy/sick/dead map onto the first three."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"
    UNKNOWN = "unknown"


_SEVERITY = {State.UNKNOWN: 0, State.HEALTHY: 1, State.DEGRADED: 2, State.UNHEALTHY: 3}


def severity(state: State) -> int:
    """Rank for worst-of: unknown < healthy < degraded < unhealthy."""
    return _SEVERITY[state]


def worst(states: Iterable[State]) -> State:
    """Unhealthy > degraded > healthy; unknown only when all are unknown or there are none."""
    return max(states, key=severity, default=State.UNKNOWN)
