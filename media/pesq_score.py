"""PESQ MOS-LQO of a received recording against the reference that was played.

ITU-T P.862 is licensed technology (OPTICOM / Psytechnics); callprobe uses the
``pesq`` package's implementation. 8 kHz is scored narrowband (P.862.1 mapping),
16 kHz wideband (P.862.2). Bad received audio never raises: it becomes a
result with ``mos=None`` and a ``detail`` saying why.
"""

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

import numpy as np
from pesq import PesqError, pesq

from media.align import align
from media.audio import SILENCE_DBOV, is_silent, resample
from media.level import FloatArray, describe_level

PesqMode = Literal["nb", "wb"]
MODES: MappingProxyType[int, PesqMode] = MappingProxyType({8000: "nb", 16000: "wb"})


@dataclass(frozen=True, kw_only=True)
class PesqScore:
    mos: float | None
    mode: PesqMode
    delay_ms: float | None
    """Where the reference starts in the recording (network + buffers + start offset)."""
    no_audio: bool
    detail: str | None


def score(
    reference: FloatArray,
    degraded: FloatArray,
    rate: int,
    *,
    degraded_rate: int | None = None,
    max_lag_s: float = 2.0,
) -> PesqScore:
    """Align ``degraded`` on ``reference`` (both at ``rate``) and score it.

    ``rate`` must be 8000 or 16000 (references are shipped at both); a recording
    made at another rate is resampled when ``degraded_rate`` says so.
    """
    if rate not in MODES:
        raise ValueError(f"PESQ scores 8000 or 16000 Hz references, not {rate} Hz")
    mode = MODES[rate]
    received = resample(_finite(degraded), degraded_rate or rate, rate)
    if is_silent(received):
        return _no_audio(mode, None, f"no audio: recording is {describe_level(received)}")
    alignment = align(reference, received, rate, max_lag_s)
    if is_silent(alignment.aligned_degraded):
        return _no_audio(mode, alignment.delay_ms, "no audio where the reference should be")
    mos, detail = _run_pesq(reference, alignment.aligned_degraded, rate, mode)
    return PesqScore(mos=mos, mode=mode, delay_ms=alignment.delay_ms, no_audio=False, detail=detail)


def _finite(samples: FloatArray) -> FloatArray:
    """Float64 copy with NaN as silence and infinities clipped (PESQ crashes on NaN)."""
    cleaned = np.nan_to_num(np.asarray(samples, dtype=np.float64), posinf=1.0, neginf=-1.0)
    return np.clip(cleaned, -1.0, 1.0)


def _run_pesq(
    reference: FloatArray, degraded: FloatArray, rate: int, mode: PesqMode
) -> tuple[float | None, str | None]:
    try:
        mos = float(pesq(rate, reference, degraded, mode))
    except PesqError as exc:  # NoUtterancesError, BufferTooShortError, ...
        return None, f"PESQ could not score: {type(exc).__name__}: {_message(exc)}"
    if not math.isfinite(mos):
        return None, "PESQ returned a non-finite score"
    return mos, None


def _message(exc: PesqError) -> str:
    # The pesq extension raises with a bytes message.
    first = exc.args[0] if exc.args else ""
    return first.decode(errors="replace") if isinstance(first, bytes) else str(first)


def _no_audio(mode: PesqMode, delay_ms: float | None, detail: str) -> PesqScore:
    return PesqScore(
        mos=None,
        mode=mode,
        delay_ms=delay_ms,
        no_audio=True,
        detail=f"{detail} (silence threshold {SILENCE_DBOV:.0f} dBov)",
    )
