from pathlib import Path

import pytest
import soundfile as sf

from media.library import REFERENCES, default_reference, reference_path
from media.make_references import main


@pytest.mark.parametrize(("name", "rate"), sorted(REFERENCES.items()))
def test_shipped_references(name: str, rate: int) -> None:
    info = sf.info(reference_path(name))
    assert (info.samplerate, info.channels, info.subtype) == (rate, 1, "PCM_16")
    assert 7.5 <= info.duration <= 9.0
    assert default_reference(rate) == reference_path(name)


def test_unknown_reference_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"speech-nb-8k\.wav"):
        reference_path("speech.wav")
    with pytest.raises(ValueError, match="8000, 16000"):
        default_reference(44100)


def test_generator_reproduces_the_shipped_files(tmp_path: Path) -> None:
    main(["--out", str(tmp_path)])
    for name in REFERENCES:
        assert (tmp_path / name).read_bytes() == reference_path(name).read_bytes(), name
