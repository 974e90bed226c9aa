"""The shipped reference speech files (see references/PROVENANCE.md)."""

from pathlib import Path
from types import MappingProxyType

REFERENCE_DIR = Path(__file__).resolve().with_name("references")

REFERENCES = MappingProxyType({"speech-nb-8k.wav": 8000, "speech-wb-16k.wav": 16000})
"""File name -> sample rate of every shipped reference."""


def reference_path(name: str) -> Path:
    """Path of a shipped reference by file name; ValueError lists the known names."""
    if name not in REFERENCES:
        raise ValueError(f"unknown reference {name!r}; known: {', '.join(sorted(REFERENCES))}")
    return REFERENCE_DIR / name


def default_reference(rate: int) -> Path:
    """The shipped reference recorded at ``rate`` (8000 narrowband, 16000 wideband)."""
    for name, reference_rate in REFERENCES.items():
        if reference_rate == rate:
            return REFERENCE_DIR / name
    known = ", ".join(str(r) for r in sorted(REFERENCES.values()))
    raise ValueError(f"no shipped reference at {rate} Hz; references exist at {known} Hz")
