"""Load, validate, resample, filter and write mono speech audio as float64 in [-1, 1]."""

from math import gcd
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy import signal

from media.level import FloatArray, describe_level, rms_dbov

MIN_DURATION_S = 1.0
"""PESQ needs speech; under a second cannot hold a useful utterance."""

SILENCE_DBOV = -60.0
"""A signal whose RMS is below this (about 33 LSB RMS at 16 bits) carries no audio.

Speech references sit at -26 dBov active level; even 8 s of speech inside a
minute of silence stays near -35 dBov, while idle channels, comfort noise and
dither sit well below -60 dBov.
"""

_FILTER_ORDER = 4


class AudioError(ValueError):
    """An audio file cannot serve as speech: the message names the file and why."""


def load_audio(path: str | Path, rate: int, *, validate: bool = True) -> FloatArray:
    """Read a sound file as mono float64 at ``rate``.

    Stereo is mixed to mono and other sample rates are resampled. With
    ``validate`` (the default, for references and prompts) files shorter than
    ``MIN_DURATION_S`` or silent raise ``AudioError``; pass ``validate=False`` for
    recordings of calls, where silence is a measurement, not an error.
    """
    path = Path(path)
    mono, file_rate = _read_mono(path)
    samples = resample(mono, file_rate, rate)
    if validate:
        _check_speech(path, samples, rate)
    return samples


def write_wav(path: str | Path, samples: FloatArray, rate: int) -> None:
    """Write ``samples`` as a 16-bit PCM WAV file, clipping to [-1, 1]."""
    sf.write(str(path), np.clip(samples, -1.0, 1.0), rate, subtype="PCM_16", format="WAV")


def resample(samples: FloatArray, from_rate: int, to_rate: int) -> FloatArray:
    """Polyphase resampling (scipy's anti-aliased resample_poly); a no-op at equal rates."""
    if from_rate == to_rate:
        return np.asarray(samples, dtype=np.float64)
    common = gcd(from_rate, to_rate)
    out = signal.resample_poly(samples, to_rate // common, from_rate // common)
    return np.clip(np.asarray(out, dtype=np.float64), -1.0, 1.0)


def band_limit(
    samples: FloatArray, rate: int, low: float = 300.0, high: float = 3400.0
) -> FloatArray:
    """Zero-phase Butterworth band-pass (telephone band by default)."""
    if not 0.0 < low < high < rate / 2.0:
        raise ValueError(f"band {low}-{high} Hz does not fit a {rate} Hz sample rate")
    sos = signal.butter(_FILTER_ORDER, [low, high], btype="bandpass", fs=rate, output="sos")
    return np.asarray(signal.sosfiltfilt(sos, samples), dtype=np.float64)


def is_silent(samples: FloatArray) -> bool:
    """True when the RMS level is below ``SILENCE_DBOV`` (or there are no samples)."""
    return rms_dbov(samples) < SILENCE_DBOV


def _read_mono(path: Path) -> tuple[FloatArray, int]:
    if not path.is_file():
        raise AudioError(f"{path}: file not found")
    try:
        data, rate = sf.read(str(path), dtype="float64", always_2d=True)
    except sf.LibsndfileError as exc:
        raise AudioError(f"{path}: not an audio file ({exc.error_string})") from exc
    return np.asarray(data.mean(axis=1), dtype=np.float64), int(rate)


def _check_speech(path: Path, samples: FloatArray, rate: int) -> None:
    duration = samples.size / rate
    if duration < MIN_DURATION_S:
        raise AudioError(
            f"{path}: too short ({duration:.2f} s); speech for PESQ needs at least "
            f"{MIN_DURATION_S:.1f} s"
        )
    if is_silent(samples):
        raise AudioError(
            f"{path}: silent ({describe_level(samples)}, below {SILENCE_DBOV:.0f} dBov)"
        )
