"""Scheduling: delay and jitter bounds, order, duplication, and an exact reorder count."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peers.impairment.config import Impairment, JitterDistribution
from peers.impairment.impairer import Impairer
from peers.impairment.schedule import Plan, Schedule

PTIME = 0.020


def plans(impairment: Impairment, count: int, seed: int = 1, gap: float = PTIME) -> list[Plan]:
    schedule = Schedule(impairment, random.Random(seed))
    return [schedule.plan(100.0 + i * gap) for i in range(count)]


def reordered_at_receiver(planned: list[Plan]) -> int:
    """RFC 4737: packets that arrive after one with a higher sequence number."""
    order = sorted(range(len(planned)), key=lambda i: (planned[i].send_at, i))
    highest, count = -1, 0
    for index in order:
        if index < highest:
            count += 1
        highest = max(highest, index)
    return count


def test_no_impairment_sends_at_once() -> None:
    planned = plans(Impairment(), 100)

    assert all(p.added_delay == 0 and p.copies == 1 for p in planned)
    assert sum(p.newly_reordered for p in planned) == 0


def test_fixed_delay() -> None:
    planned = plans(Impairment(delay_ms=75), 100)

    assert all(p.added_delay == pytest.approx(0.075) for p in planned)


@pytest.mark.parametrize("distribution", list(JitterDistribution))
def test_jitter_stays_within_its_bounds(distribution: JitterDistribution) -> None:
    impairment = Impairment(delay_ms=40, jitter_ms=30, jitter_distribution=distribution)

    delays = [p.added_delay for p in plans(impairment, 5000)]

    assert min(delays) >= 0.040 - 1e-9
    assert max(delays) <= 0.070 + 1e-9
    assert sum(delays) / len(delays) == pytest.approx(0.055, abs=0.002)


@pytest.mark.parametrize(
    ("distribution", "variance_ms2"),
    [(JitterDistribution.UNIFORM, 40**2 / 12), (JitterDistribution.NORMAL, 10**2)],
)
def test_jitter_spread_follows_its_distribution(
    distribution: JitterDistribution, variance_ms2: float
) -> None:
    impairment = Impairment(jitter_ms=40, jitter_distribution=distribution)
    delays_ms = [p.added_delay * 1000 for p in plans(impairment, 20_000)]

    mean = sum(delays_ms) / len(delays_ms)
    variance = sum((d - mean) ** 2 for d in delays_ms) / len(delays_ms)

    assert variance == pytest.approx(variance_ms2, rel=0.15)  # clipping trims the normal


def test_preserve_order_never_reorders_jittered_packets() -> None:
    impairment = Impairment(jitter_ms=60, preserve_order=True)

    planned = plans(impairment, 2000, gap=0.005)

    send_times = [p.send_at for p in planned]
    assert send_times == sorted(send_times)
    assert sum(p.newly_reordered for p in planned) == 0
    assert all(p.added_delay >= 0 for p in planned)


def test_jitter_larger_than_the_packet_gap_reorders_and_is_counted_exactly() -> None:
    planned = plans(Impairment(jitter_ms=60), 2000)

    counted = sum(p.newly_reordered for p in planned)

    assert counted == reordered_at_receiver(planned)
    assert counted > 100


def test_reorder_holds_a_packet_back_behind_the_next_one() -> None:
    planned = plans(Impairment(reorder_pct=10, reorder_delay_ms=30), 5000)

    held = [p for p in planned if p.added_delay > 0]

    assert all(p.added_delay == pytest.approx(0.030) for p in held)
    assert len(held) == pytest.approx(500, rel=0.15)
    assert sum(p.newly_reordered for p in planned) == reordered_at_receiver(planned)


def test_duplication_rate_and_reproducibility() -> None:
    copies = [p.copies for p in plans(Impairment(duplicate_pct=20), 10_000, seed=8)]

    assert copies == [p.copies for p in plans(Impairment(duplicate_pct=20), 10_000, seed=8)]
    assert set(copies) == {1, 2}
    assert copies.count(2) == pytest.approx(2000, rel=0.1)


@settings(max_examples=60, deadline=None, database=None)
@given(
    seed=st.integers(0, 2**32),
    jitter_ms=st.floats(0, 100),
    reorder_pct=st.floats(0, 50),
    preserve_order=st.booleans(),
    gaps=st.lists(st.floats(0, 0.05), min_size=1, max_size=200),
)
def test_reorder_count_matches_the_receivers_view(
    seed: int, jitter_ms: float, reorder_pct: float, preserve_order: bool, gaps: list[float]
) -> None:
    impairment = Impairment(
        delay_ms=10, jitter_ms=jitter_ms, reorder_pct=reorder_pct, preserve_order=preserve_order
    )
    schedule = Schedule(impairment, random.Random(seed))
    now, planned = 0.0, []
    for gap in gaps:
        now += gap
        planned.append(schedule.plan(now))

    assert sum(p.newly_reordered for p in planned) == reordered_at_receiver(planned)


def test_impairer_counts_what_it_decided() -> None:
    impairer = Impairer(Impairment(loss_pct=10, delay_ms=5, duplicate_pct=10), seed="s")

    planned = [impairer.admit(1.0 + i * PTIME, ssrc=0xABC) for i in range(1000)]

    kept = [p for p in planned if p is not None]
    counters = impairer.counters
    assert counters.received == 1000
    assert counters.dropped == 1000 - len(kept)
    assert counters.dropped_by_ssrc == {0xABC: counters.dropped}
    assert counters.duplicated == sum(p.copies - 1 for p in kept)
    assert counters.delayed == len(kept)
    assert counters.delay_ms_total == pytest.approx(5.0 * len(kept))


def test_jitter_does_not_change_which_packets_are_dropped() -> None:
    def dropped(impairment: Impairment) -> list[bool]:
        impairer = Impairer(impairment, seed="same")
        return [impairer.admit(i * PTIME, ssrc=None) is None for i in range(2000)]

    assert dropped(Impairment(loss_pct=5)) == dropped(
        Impairment(loss_pct=5, jitter_ms=30, reorder_pct=5, duplicate_pct=5)
    )
