"""Find where the reference starts inside a received recording, by cross-correlation."""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import signal

from media.level import FloatArray

Lags = npt.NDArray[np.signedinteger]

REPEAT_TOLERANCE_S = 0.1
"""How far a later repeat of the reference may drift from one file length on."""

REPEAT_MIN_RATIO = 0.5
"""A later repeat must correlate at least this well, relative to the first peak."""


@dataclass(frozen=True, kw_only=True)
class Alignment:
    delay_samples: int
    """Where the reference starts in the recording; negative if recording began late."""
    delay_ms: float
    aligned_degraded: FloatArray
    """The recording from ``delay_samples`` on, exactly as long as the reference."""
    correlation: float
    """Normalised correlation of the reference with ``aligned_degraded`` (-1..1)."""


def align(
    reference: FloatArray, degraded: FloatArray, rate: int, max_lag_s: float = 2.0
) -> Alignment:
    """Locate the first full occurrence of ``reference`` in ``degraded``.

    The lag is searched within +-``max_lag_s`` (recording start offset plus
    network and jitter-buffer delay). When the best lag is negative (the
    recording missed the start) and the call looped the reference, the next,
    complete repeat one reference length later is used instead.
    """
    correlation = signal.correlate(degraded, reference, mode="full", method="fft")
    lags = signal.correlation_lags(degraded.size, reference.size, mode="full")
    lag = _best_lag(correlation, lags, round(max_lag_s * rate))
    if lag < 0:
        lag = _full_repeat(
            correlation, lags, lag=lag, length=reference.size, available=degraded.size, rate=rate
        )
    segment = _segment(degraded, lag, reference.size)
    return Alignment(
        delay_samples=lag,
        delay_ms=1000.0 * lag / rate,
        aligned_degraded=segment,
        correlation=_normalised(reference, segment),
    )


def _best_lag(correlation: FloatArray, lags: Lags, max_lag: int) -> int:
    window = np.abs(lags) <= max_lag
    return int(lags[window][np.argmax(correlation[window])])


def _full_repeat(
    correlation: FloatArray, lags: Lags, *, lag: int, length: int, available: int, rate: int
) -> int:
    """The lag of the repeat after a partial first occurrence, or ``lag`` if none fits."""
    tolerance = round(REPEAT_TOLERANCE_S * rate)
    window = (np.abs(lags - (lag + length)) <= tolerance) & (lags + length <= available)
    if not window.any():
        return lag
    repeat = int(np.argmax(np.where(window, correlation, -np.inf)))
    peak = correlation[lags == lag][0]
    return int(lags[repeat]) if correlation[repeat] >= REPEAT_MIN_RATIO * peak else lag


def _segment(degraded: FloatArray, lag: int, length: int) -> FloatArray:
    """``degraded[lag:lag + length]``, zero-filled where the recording has no samples."""
    out = np.zeros(length)
    start, stop = max(lag, 0), min(lag + length, degraded.size)
    if stop > start:
        out[start - lag : stop - lag] = degraded[start:stop]
    return out


def _normalised(reference: FloatArray, segment: FloatArray) -> float:
    energy = float(np.linalg.norm(reference) * np.linalg.norm(segment))
    return float(np.dot(reference, segment)) / energy if energy > 0.0 else 0.0
