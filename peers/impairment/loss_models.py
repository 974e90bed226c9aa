"""Seeded packet-loss decisions: one `drop()` call per packet, no I/O, no clock.

Every model draws a fixed number of random numbers per packet whatever it
decides, so a given seed always yields the same drop pattern.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Protocol


class LossModel(Protocol):
    """Decides, packet by packet, whether to drop."""

    def drop(self) -> bool:
        """True if the next packet is lost."""
        ...


@dataclass(frozen=True, kw_only=True, slots=True)
class RandomLoss:
    """Independent (Bernoulli) loss with a fixed probability per packet."""

    probability: float
    rng: random.Random

    def drop(self) -> bool:
        """True with `probability`."""
        return self.rng.random() < self.probability


@dataclass(kw_only=True, slots=True)
class GilbertElliott:
    """Gilbert-Elliott burst loss (a two-state Markov chain, starting good).

    The packet is lost with `loss_good` or `loss_bad` depending on the current
    state, then the state moves: good→bad with probability `p`, bad→good with
    `r`. The long-run loss is loss_good·r/(p+r) + loss_bad·p/(p+r); mean
    burst length in the bad state is 1/r.
    """

    p: float
    r: float
    loss_bad: float
    loss_good: float
    rng: random.Random
    bad: bool = field(default=False)

    def drop(self) -> bool:
        """Loss decision in the current state, then one state transition."""
        lost = self.rng.random() < (self.loss_bad if self.bad else self.loss_good)
        move = self.rng.random()
        self.bad = move >= self.r if self.bad else move < self.p
        return lost


@dataclass(frozen=True, kw_only=True, slots=True)
class CombinedLoss:
    """Drops a packet if any of its models does; every model draws every time."""

    models: tuple[LossModel, ...]

    def drop(self) -> bool:
        """Ask all models (no short-circuit, to keep each one's sequence intact)."""
        decisions = [model.drop() for model in self.models]
        return any(decisions)
