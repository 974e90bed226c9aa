import numpy as np
import pytest

from media.align import align

RATE = 8000


@pytest.mark.parametrize("delay_samples", [0, 1, 800, 2500, 15999])
def test_finds_delay_behind_leading_junk(
    nb_reference: np.ndarray, rng: np.random.Generator, delay_samples: int
) -> None:
    junk = 0.01 * rng.standard_normal(delay_samples)
    degraded = np.concatenate([junk, nb_reference, 0.01 * rng.standard_normal(4000)])
    result = align(nb_reference, degraded, RATE)
    assert result.delay_samples == delay_samples
    assert result.delay_ms == pytest.approx(delay_samples / 8)
    assert result.correlation > 0.999
    assert np.array_equal(result.aligned_degraded, nb_reference)


def test_takes_the_first_of_several_repeats(nb_reference: np.ndarray) -> None:
    looped = np.concatenate([np.zeros(1600), nb_reference, nb_reference, nb_reference])
    assert align(nb_reference, looped, RATE).delay_samples == 1600


def test_late_recording_of_a_looped_call_uses_the_first_full_repeat(
    nb_reference: np.ndarray,
) -> None:
    looped = np.concatenate([nb_reference[4000:], nb_reference, nb_reference])
    result = align(nb_reference, looped, RATE)
    assert result.delay_samples == nb_reference.size - 4000
    assert np.array_equal(result.aligned_degraded, nb_reference)


def test_late_recording_without_repeat_is_zero_filled_in_front(
    nb_reference: np.ndarray,
) -> None:
    result = align(nb_reference, nb_reference[4000:], RATE)
    assert result.delay_samples == -4000
    assert result.delay_ms == -500.0
    assert not result.aligned_degraded[:4000].any()
    assert np.array_equal(result.aligned_degraded[4000:], nb_reference[4000:])


def test_short_recording_is_zero_filled_at_the_end(nb_reference: np.ndarray) -> None:
    degraded = np.concatenate([np.zeros(400), nb_reference[:30000]])
    result = align(nb_reference, degraded, RATE)
    assert result.delay_samples == 400
    assert result.aligned_degraded.size == nb_reference.size
    assert not result.aligned_degraded[30000:].any()


def test_lag_is_searched_only_within_max_lag(nb_reference: np.ndarray) -> None:
    degraded = np.concatenate([np.zeros(3 * RATE), nb_reference])
    assert abs(align(nb_reference, degraded, RATE, max_lag_s=1.0).delay_samples) <= RATE


def test_unrelated_audio_correlates_poorly(
    nb_reference: np.ndarray, rng: np.random.Generator
) -> None:
    noise = 0.05 * rng.standard_normal(nb_reference.size)
    assert abs(align(nb_reference, noise, RATE).correlation) < 0.1


def test_silence_has_zero_correlation(nb_reference: np.ndarray) -> None:
    assert align(nb_reference, np.zeros(nb_reference.size), RATE).correlation == 0.0
