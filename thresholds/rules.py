"""Threshold rules and probe policy, validated when built (fail fast)."""

import math
from collections.abc import Iterator
from dataclasses import dataclass

from thresholds.metrics import METRICS
from thresholds.states import State


class InvalidRule(ValueError):
    """A rule or policy that cannot be evaluated."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Rule:
    """Bounds on one metric: reaching ``warning`` degrades, reaching ``critical`` fails.

    A value equal to a bound triggers it.
    """

    metric: str
    warning: float | None = None
    critical: float | None = None

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise InvalidRule(f"unknown metric {self.metric!r}; known: {', '.join(METRICS)}")
        if self.warning is None and self.critical is None:
            raise InvalidRule(f"rule on {self.metric} needs a warning or a critical bound")
        for name, bound in (("warning", self.warning), ("critical", self.critical)):
            if bound is not None and not math.isfinite(bound):
                raise InvalidRule(f"{self.metric} {name} bound must be finite, got {bound}")
        self._check_order()

    def _check_order(self) -> None:
        if self.warning is None or self.critical is None:
            return
        if self.crosses(self.critical, self.warning):
            return
        side = "below" if METRICS[self.metric].higher_is_better else "above"
        raise InvalidRule(
            f"{self.metric} critical {self.critical:g} must be at or {side}"
            f" warning {self.warning:g}"
        )

    def crosses(self, value: float, bound: float) -> bool:
        """Whether ``value`` is at ``bound`` or on its worse side."""
        if METRICS[self.metric].higher_is_better:
            return value <= bound
        return value >= bound

    def breaches(self, value: float) -> Iterator[tuple[State, str, float]]:
        """Each bound ``value`` reaches, as (state, "critical" | "warning", bound)."""
        levels = (
            (State.UNHEALTHY, "critical", self.critical),
            (State.DEGRADED, "warning", self.warning),
        )
        for state, level, bound in levels:
            if bound is not None and self.crosses(value, bound):
                yield state, level, bound


@dataclass(frozen=True, kw_only=True, slots=True)
class Policy:
    """Probe-wide options: hysteresis, quorum, ASR window and Crisp's check options."""

    failures_to_unhealthy: int = 1
    successes_to_recover: int = 1
    quorum: int = 1
    asr_window: int = 20
    sick_after_ms: float | None = None
    dead_after_ms: float | None = None
    push_dead_after_s: float | None = None
    stale_after_s: float | None = None
    cpu_sick_above: float | None = None
    ram_sick_above: float | None = None

    def __post_init__(self) -> None:
        for name in ("failures_to_unhealthy", "successes_to_recover", "quorum", "asr_window"):
            if getattr(self, name) < 1:
                raise InvalidRule(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("sick_after_ms", "dead_after_ms", "push_dead_after_s", "stale_after_s"):
            _check_range(name, getattr(self, name), upper=math.inf)
        for name in ("cpu_sick_above", "ram_sick_above"):
            _check_range(name, getattr(self, name), upper=1.0)
        sick, dead = self.sick_after_ms, self.dead_after_ms
        if sick is not None and dead is not None and sick > dead:
            raise InvalidRule(f"sick_after_ms {sick:g} exceeds dead_after_ms {dead:g}")


def _check_range(name: str, value: float | None, *, upper: float) -> None:
    if value is not None and not (0 < value <= upper and math.isfinite(value)):
        limit = "a finite number" if math.isinf(upper) else f"at most {upper:g}"
        raise InvalidRule(f"{name} must be above 0 and {limit}, got {value}")
