"""Regenerate the shipped reference speech: ``python -m media.make_references``.

Three Harvard sentences (IEEE 1969 lists) spoken by espeak-ng as two talkers,
joined with natural pauses, then resampled, band-limited and set to -26 dBov
active level for each bandwidth. The same espeak-ng version gives byte-identical
files; see references/PROVENANCE.md.
"""

import argparse
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from media.audio import band_limit, load_audio, resample, write_wav
from media.level import FloatArray, normalise_active_level
from media.library import REFERENCE_DIR, REFERENCES

ESPEAK_RATE = 22050
SPEED_WPM = 175
TARGET_DBOV = -26.0
LEAD_S, GAP_S, TAIL_S = 0.4, 0.6, 0.5
TRIM_FRACTION = 0.01


@dataclass(frozen=True, kw_only=True)
class Utterance:
    voice: str
    pitch: int
    text: str


UTTERANCES = (
    Utterance(voice="en-us", pitch=40, text="The birch canoe slid on the smooth planks."),
    Utterance(voice="en-us+f3", pitch=70, text="Rice is often served in round bowls."),
    Utterance(voice="en-us", pitch=30, text="Four hours of steady work faced us."),
)

BANDS = {"speech-nb-8k.wav": (300.0, 3400.0), "speech-wb-16k.wav": (50.0, 7000.0)}


def espeak_command(utterance: Utterance, out: Path) -> list[str]:
    """The exact espeak-ng invocation for one sentence (also quoted in PROVENANCE.md)."""
    return [
        _espeak(),
        *("-v", utterance.voice, "-p", str(utterance.pitch), "-s", str(SPEED_WPM)),
        *("-w", str(out), utterance.text),
    ]


def synthesise(utterance: Utterance, workdir: Path) -> FloatArray:
    """One sentence at ``ESPEAK_RATE``, with espeak's leading and trailing silence cut."""
    out = workdir / "utterance.wav"
    subprocess.run(espeak_command(utterance, out), check=True, capture_output=True)
    return _trim(load_audio(out, ESPEAK_RATE, validate=False))


def conversation(workdir: Path) -> FloatArray:
    """All sentences at ``ESPEAK_RATE`` separated by pauses."""
    parts = [_silence(LEAD_S)]
    for utterance in UTTERANCES:
        parts += [synthesise(utterance, workdir), _silence(GAP_S)]
    parts[-1] = _silence(TAIL_S)
    return np.concatenate(parts)


def render(speech: FloatArray, name: str) -> FloatArray:
    """Resample, band-limit and level one reference from the full-rate conversation."""
    rate = REFERENCES[name]
    low, high = BANDS[name]
    limited = band_limit(resample(speech, ESPEAK_RATE, rate), rate, low, high)
    return normalise_active_level(limited, rate, TARGET_DBOV)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REFERENCE_DIR, help="output folder")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        speech = conversation(Path(tmp))
    for name in REFERENCES:
        write_wav(args.out / name, render(speech, name), REFERENCES[name])
        print(args.out / name)


def _espeak() -> str:
    found = shutil.which("espeak-ng")
    if found is None:
        raise SystemExit("espeak-ng is not installed (apt-get install espeak-ng)")
    return found


def _trim(samples: FloatArray) -> FloatArray:
    loud = np.flatnonzero(np.abs(samples) > TRIM_FRACTION * np.abs(samples).max())
    return samples[loud[0] : loud[-1] + 1]


def _silence(seconds: float) -> FloatArray:
    return np.zeros(round(seconds * ESPEAK_RATE))


if __name__ == "__main__":
    main()
