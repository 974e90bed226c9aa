from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from media.audio import AudioError, band_limit, is_silent, load_audio, resample, write_wav
from media.level import active_level_dbov, rms_dbov
from media.pesq_score import score


def tone(freq: float, rate: int, seconds: float = 1.0, amplitude: float = 0.5) -> np.ndarray:
    return amplitude * np.sin(2 * np.pi * freq * np.arange(int(rate * seconds)) / rate)


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.wav"
    with pytest.raises(AudioError, match=r"nope\.wav: file not found"):
        load_audio(missing, 8000)


def test_text_file_renamed_wav(tmp_path: Path) -> None:
    fake = tmp_path / "notes.wav"
    fake.write_text("this is not audio\n")
    with pytest.raises(AudioError, match=r"notes\.wav: not an audio file"):
        load_audio(fake, 8000)


def test_too_short(tmp_path: Path, nb_reference: np.ndarray) -> None:
    short = tmp_path / "short.wav"
    write_wav(short, nb_reference[3200:5600], 8000)
    with pytest.raises(AudioError, match=r"short\.wav: too short \(0\.30 s\)"):
        load_audio(short, 8000)


@pytest.mark.parametrize("level", [0.0, 1e-4])
def test_silent(tmp_path: Path, rng: np.random.Generator, level: float) -> None:
    quiet = tmp_path / "quiet.wav"
    write_wav(quiet, level * rng.standard_normal(16000), 8000)
    with pytest.raises(AudioError, match=r"quiet\.wav: silent"):
        load_audio(quiet, 8000)


def test_silent_and_short_load_without_validation(tmp_path: Path) -> None:
    path = tmp_path / "one-way.wav"
    write_wav(path, np.zeros(800), 8000)
    assert load_audio(path, 8000, validate=False).size == 800


def test_stereo_44k_is_mixed_resampled_and_scores_the_same(
    tmp_path: Path, nb_reference: np.ndarray
) -> None:
    upsampled = resample(nb_reference, 8000, 44100)
    stereo = np.column_stack([upsampled, 0.5 * upsampled])
    path = tmp_path / "stereo.flac"
    sf.write(path, stereo, 44100)
    loaded = load_audio(path, 8000)
    assert abs(loaded.size - nb_reference.size) <= 1  # resample_poly rounds lengths up
    assert np.max(np.abs(loaded[: nb_reference.size] - 0.75 * nb_reference)) < 0.01
    result = score(nb_reference, loaded, 8000)
    assert result.mos == pytest.approx(score(nb_reference, nb_reference, 8000).mos, abs=0.1)


def test_write_wav_round_trip_is_16_bit(tmp_path: Path) -> None:
    path = tmp_path / "tone.wav"
    write_wav(path, tone(440, 8000, amplitude=1.5), 8000)
    info = sf.info(path)
    assert (info.samplerate, info.channels, info.subtype) == (8000, 1, "PCM_16")
    assert np.max(np.abs(load_audio(path, 8000))) <= 1.0


@pytest.mark.parametrize(
    ("freq", "passes"), [(100, False), (1000, True), (3000, True), (3900, False)]
)
def test_band_limit_keeps_the_telephone_band(freq: float, passes: bool) -> None:
    filtered = band_limit(tone(freq, 8000), 8000)
    gain_db = rms_dbov(filtered[800:-800]) - rms_dbov(tone(freq, 8000)[800:-800])
    assert (gain_db > -1.0) if passes else (gain_db < -20.0)


def test_band_limit_refuses_a_band_above_nyquist() -> None:
    with pytest.raises(ValueError, match="7000"):
        band_limit(tone(1000, 8000), 8000, 50, 7000)


@pytest.mark.parametrize(
    ("samples", "silent"),
    [
        (np.zeros(8000), True),
        (np.array([]), True),
        (np.full(8000, 5e-4), True),
        (np.full(8000, 2e-3), False),
        (tone(1000, 8000, amplitude=0.01), False),
    ],
)
def test_is_silent(samples: np.ndarray, silent: bool) -> None:
    assert is_silent(samples) is silent


def test_resample_is_identity_at_equal_rates() -> None:
    samples = tone(440, 8000)
    assert np.array_equal(resample(samples, 8000, 8000), samples)
    assert resample(samples, 8000, 16000).size == 16000


def test_references_are_at_minus_26_dbov(
    nb_reference: np.ndarray, wb_reference: np.ndarray
) -> None:
    assert active_level_dbov(nb_reference, 8000) == pytest.approx(-26.0, abs=0.05)
    assert active_level_dbov(wb_reference, 16000) == pytest.approx(-26.0, abs=0.05)
