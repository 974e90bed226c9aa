"""Loss, then scheduling, for one stream of one direction of one call (pure, counted)."""

from __future__ import annotations

import random

from peers.impairment.config import Impairment
from peers.impairment.loss_models import CombinedLoss, GilbertElliott, LossModel, RandomLoss
from peers.impairment.schedule import Plan, Schedule
from peers.impairment.stats import StreamCounters


def loss_model(impairment: Impairment, seed: str) -> LossModel:
    """Random loss, plus Gilbert-Elliott bursts if configured, each with its own seeded RNG."""
    models: list[LossModel] = [
        RandomLoss(probability=impairment.loss_pct / 100.0, rng=random.Random(f"{seed}:random"))
    ]
    ge = impairment.gilbert_elliott
    if ge is not None:
        rng = random.Random(f"{seed}:gilbert-elliott")
        models.append(
            GilbertElliott(p=ge.p, r=ge.r, loss_bad=ge.loss_bad, loss_good=ge.loss_good, rng=rng)
        )
    return CombinedLoss(models=tuple(models))


class Impairer:
    """Decides each packet's fate and counts it; the caller sends what survives.

    Loss and scheduling draw from separate RNGs (both derived from `seed`), so
    adding jitter to a run does not change which packets it drops.
    """

    def __init__(self, impairment: Impairment, seed: str) -> None:
        self.counters = StreamCounters()
        self._loss = loss_model(impairment, seed)
        self._schedule = Schedule(impairment, random.Random(f"{seed}:schedule"))

    def count_unroutable(self) -> None:
        """A packet arrived that has nowhere to go yet (no SDP from the far side)."""
        self.counters.received += 1
        self.counters.unroutable += 1

    def admit(self, now: float, ssrc: int | None) -> Plan | None:
        """The packet's plan, or None if it is dropped."""
        counters = self.counters
        counters.received += 1
        if self._loss.drop():
            counters.dropped += 1
            if ssrc is not None:
                counters.dropped_by_ssrc[ssrc] += 1
            return None
        plan = self._schedule.plan(now)
        counters.duplicated += plan.copies - 1
        counters.reordered += plan.newly_reordered
        counters.delayed += plan.added_delay > 0
        counters.delay_ms_total += plan.added_delay * 1000.0
        return plan
