import numpy as np
import pytest

from media.ceiling import codec_ceiling
from media.codecs import get_codec

# Measured on the shipped references (media/references/); see PROVENANCE.md.
CEILINGS = [("PCMU", 8000, 4.270), ("PCMA", 8000, 4.224), ("G722", 16000, 3.268)]


@pytest.mark.parametrize(("name", "rate", "expected"), CEILINGS)
def test_codec_ceiling_of_shipped_reference(
    nb_reference: np.ndarray, wb_reference: np.ndarray, name: str, rate: int, expected: float
) -> None:
    reference = nb_reference if rate == 8000 else wb_reference
    assert codec_ceiling(reference, rate, get_codec(name)) == pytest.approx(expected, abs=0.02)


def test_ceiling_is_none_without_an_encoder(nb_reference: np.ndarray) -> None:
    assert codec_ceiling(nb_reference, 8000, get_codec("GSM")) is None


def test_ceiling_is_cached_by_content(nb_reference: np.ndarray) -> None:
    first = codec_ceiling(nb_reference, 8000, get_codec("PCMU"))
    assert codec_ceiling(nb_reference.copy(), 8000, get_codec("pcmu")) == first
    assert codec_ceiling(0.5 * nb_reference, 8000, get_codec("PCMU")) != first
