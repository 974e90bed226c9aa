import numpy as np
import pytest

from media.audio import resample
from media.pesq_score import score


def test_reference_against_itself_nb(nb_reference: np.ndarray) -> None:
    result = score(nb_reference, nb_reference, 8000)
    assert result.mos == pytest.approx(4.55, abs=0.01)
    assert (result.mode, result.delay_ms, result.no_audio, result.detail) == (
        "nb",
        0.0,
        False,
        None,
    )


def test_reference_against_itself_wb(wb_reference: np.ndarray) -> None:
    result = score(wb_reference, wb_reference, 16000)
    assert result.mos == pytest.approx(4.64, abs=0.01)
    assert result.mode == "wb"


def test_delayed_copy_with_leading_junk_scores_the_same(
    nb_reference: np.ndarray, rng: np.random.Generator
) -> None:
    degraded = np.concatenate(
        [0.02 * rng.standard_normal(1234), nb_reference, 0.02 * rng.standard_normal(3000)]
    )
    result = score(nb_reference, degraded, 8000)
    assert result.delay_ms == pytest.approx(154.25)
    assert result.mos == pytest.approx(4.55, abs=0.01)


@pytest.mark.parametrize("level", [0.0, 1e-4])
def test_silence_and_tiny_noise_are_no_audio(
    nb_reference: np.ndarray, rng: np.random.Generator, level: float
) -> None:
    result = score(nb_reference, level * rng.standard_normal(nb_reference.size), 8000)
    assert (result.mos, result.no_audio) == (None, True)
    assert result.detail is not None
    assert "no audio" in result.detail


def test_audio_away_from_the_reference_is_no_audio(nb_reference: np.ndarray) -> None:
    click = np.zeros(nb_reference.size * 2)
    click[-400:] = 0.5
    result = score(nb_reference, click, 8000)
    assert (result.mos, result.no_audio) == (None, True)


def test_noise_instead_of_speech_scores_low(
    nb_reference: np.ndarray, rng: np.random.Generator
) -> None:
    result = score(nb_reference, 0.05 * rng.standard_normal(nb_reference.size), 8000)
    assert result.mos is not None
    assert result.mos < 1.5


def test_nan_samples_never_produce_nan(nb_reference: np.ndarray) -> None:
    damaged = nb_reference.copy()
    damaged[1000:2000] = np.nan
    damaged[5000] = np.inf
    result = score(nb_reference, damaged, 8000)
    assert result.mos is not None
    assert np.isfinite(result.mos)


def test_pesq_errors_become_results() -> None:
    reference = np.zeros(8000)
    reference[:1000] = 0.1
    result = score(reference[:1800], reference[:1800], 8000)
    assert result.mos is None
    assert result.detail is not None
    assert "BufferTooShortError" in result.detail


def test_degraded_at_another_rate_is_resampled(nb_reference: np.ndarray) -> None:
    degraded = resample(nb_reference, 8000, 48000)
    result = score(nb_reference, degraded, 8000, degraded_rate=48000)
    assert result.mos == pytest.approx(4.5, abs=0.1)


def test_unsupported_reference_rate_is_a_programming_error(nb_reference: np.ndarray) -> None:
    with pytest.raises(ValueError, match="44100"):
        score(nb_reference, nb_reference, 44100)
