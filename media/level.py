"""Signal levels in dBov (0 dBov = RMS of a full-scale square wave, i.e. RMS 1.0).

The active level is a simplified ITU-T P.56: the RMS over 20 ms frames whose own
level lies within ``ACTIVITY_RANGE_DB`` of the loudest frame, instead of P.56's
envelope-and-hangover voltmeter. It is close enough to set a reference to
about -26 dBov, which is all it is used for.
"""

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.floating]

FRAME_S = 0.02
ACTIVITY_RANGE_DB = 30.0
_FLOOR = 1e-12
_FLOOR_DB = -240.0


def rms_dbov(samples: FloatArray) -> float:
    """RMS level of the whole signal (digital silence reads -240 dBov, not -inf)."""
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if samples.size else 0.0
    return 20.0 * float(np.log10(max(rms, _FLOOR)))


def describe_level(samples: FloatArray) -> str:
    """Human-readable level for messages: "RMS -71.3 dBov" or "digital silence"."""
    level = rms_dbov(samples)
    return "digital silence" if level <= _FLOOR_DB else f"RMS {level:.1f} dBov"


def active_level_dbov(samples: FloatArray, rate: int) -> float:
    """Level over active (speech) frames only; see the module docstring."""
    frame_energy = _frame_energies(samples, rate)
    if not frame_energy.size or frame_energy.max() <= _FLOOR:
        return rms_dbov(samples)
    threshold = frame_energy.max() * 10.0 ** (-ACTIVITY_RANGE_DB / 10.0)
    active = frame_energy[frame_energy >= threshold]
    return 10.0 * float(np.log10(max(float(active.mean()), _FLOOR)))


def normalise_active_level(samples: FloatArray, rate: int, target_dbov: float) -> FloatArray:
    """Scale ``samples`` so that their active level is ``target_dbov``."""
    gain_db = target_dbov - active_level_dbov(samples, rate)
    return np.asarray(samples * 10.0 ** (gain_db / 20.0), dtype=np.float64)


def _frame_energies(samples: FloatArray, rate: int) -> FloatArray:
    frame = max(int(rate * FRAME_S), 1)
    count = samples.size // frame
    frames = np.asarray(samples[: count * frame], dtype=np.float64).reshape(count, frame)
    return np.asarray(np.mean(np.square(frames), axis=1), dtype=np.float64)
