"""A probe's policy with the defaults judging adds, and how much history judging needs."""

from collections.abc import Iterable, Mapping
from typing import Any

from thresholds.metrics import WINDOWED
from thresholds.rules import Policy, Rule

HISTORY_CAP = 30
"""At most this many newest results per location are fed to the engine."""

PUSH_DEAD_AFTER_S = 60.0
"""A push probe's silence limit when its options name none."""


def probe_policy(
    stored: Mapping[str, Any], *, kind: str, interval_s: float, options: Mapping[str, Any]
) -> Policy:
    """The probe's stored policy, with defaults that turn silence into ``unknown``
    (three intervals and a minute) or, for a push probe, into ``unhealthy``."""
    values = dict(stored)
    if kind == "push":
        values.setdefault(
            "push_dead_after_s", float(options.get("dead_after_s", PUSH_DEAD_AFTER_S))
        )
    else:
        values.setdefault("stale_after_s", float(3 * interval_s + 60))
    return Policy(**values)


def history_depth(policy: Policy, rules: Iterable[Rule]) -> int:
    """Newest results per location the engine sees: the ASR window when an ASR or SCR
    rule exists, else three times the hysteresis streaks (a streak that began earlier no
    longer decides), capped by :data:`HISTORY_CAP`."""
    depth = 3 * (policy.failures_to_unhealthy + policy.successes_to_recover)
    if any(rule.metric in WINDOWED for rule in rules):
        depth = max(depth, policy.asr_window)
    return min(depth, HISTORY_CAP)
