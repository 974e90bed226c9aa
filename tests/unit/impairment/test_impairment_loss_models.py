"""Seeded loss models: reproducible, and right on average."""

from __future__ import annotations

import random
from itertools import groupby

import pytest

from peers.impairment.loss_models import CombinedLoss, GilbertElliott, RandomLoss


def drops(model: RandomLoss | GilbertElliott | CombinedLoss, count: int) -> list[bool]:
    return [model.drop() for _ in range(count)]


def test_random_loss_drop_count_is_fixed_by_the_seed() -> None:
    first = drops(RandomLoss(probability=0.05, rng=random.Random(1234)), 10_000)
    again = drops(RandomLoss(probability=0.05, rng=random.Random(1234)), 10_000)

    assert sum(first) == 467
    assert first == again


def test_random_loss_uses_one_draw_per_packet() -> None:
    reference = random.Random(7)

    expected = [reference.random() < 0.3 for _ in range(1000)]

    assert drops(RandomLoss(probability=0.3, rng=random.Random(7)), 1000) == expected


@pytest.mark.parametrize(("probability", "dropped"), [(0.0, 0), (1.0, 500)])
def test_random_loss_extremes(probability: float, dropped: int) -> None:
    assert sum(drops(RandomLoss(probability=probability, rng=random.Random(1)), 500)) == dropped


@pytest.mark.parametrize(
    ("p", "r", "loss_bad", "loss_good"),
    [(0.02, 0.25, 1.0, 0.0), (0.02, 0.25, 0.9, 0.01), (0.1, 0.5, 0.5, 0.0), (0.3, 0.1, 1.0, 0.05)],
)
def test_gilbert_elliott_mean_loss_is_its_stationary_value(
    p: float, r: float, loss_bad: float, loss_good: float
) -> None:
    model = GilbertElliott(p=p, r=r, loss_bad=loss_bad, loss_good=loss_good, rng=random.Random(5))
    stationary = loss_good * r / (p + r) + loss_bad * p / (p + r)

    mean = sum(drops(model, 100_000)) / 100_000

    assert mean == pytest.approx(stationary, abs=0.01)


def test_gilbert_elliott_losses_come_in_bursts_of_mean_length_one_over_r() -> None:
    model = GilbertElliott(p=0.01, r=0.2, loss_bad=1.0, loss_good=0.0, rng=random.Random(3))

    bursts = [len(list(run)) for lost, run in groupby(drops(model, 100_000)) if lost]

    assert sum(bursts) / len(bursts) == pytest.approx(1 / 0.2, rel=0.1)


def test_gilbert_elliott_is_reproducible() -> None:
    def pattern() -> list[bool]:
        model = GilbertElliott(p=0.05, r=0.3, loss_bad=1.0, loss_good=0.0, rng=random.Random(42))
        return drops(model, 5000)

    assert pattern() == pattern()


def test_combined_loss_asks_every_model_every_time() -> None:
    alone = RandomLoss(probability=0.1, rng=random.Random(2))
    combined = CombinedLoss(
        models=(
            RandomLoss(probability=1.0, rng=random.Random(9)),
            RandomLoss(probability=0.1, rng=random.Random(2)),
        )
    )

    assert all(drops(combined, 100))
    assert combined.models[1].drop() == drops(alone, 101)[-1]
