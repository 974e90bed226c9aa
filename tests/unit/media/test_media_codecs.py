import numpy as np
import pytest

from media.codecs import (
    CODECS,
    CeilingUnavailable,
    UnknownCodecError,
    get_codec,
    transcode,
)


@pytest.mark.parametrize(
    ("name", "canonical", "rate", "clock", "payload_type", "wideband"),
    [
        ("pcmu", "PCMU", 8000, 8000, 0, False),
        ("PCMA", "PCMA", 8000, 8000, 8, False),
        ("g722", "G722", 16000, 8000, 9, True),
        ("Gsm", "GSM", 8000, 8000, 3, False),
        ("ILBC", "iLBC", 8000, 8000, None, False),
        ("Speex", "speex", 8000, 8000, None, False),
    ],
)
def test_registry(
    name: str, canonical: str, rate: int, clock: int, payload_type: int | None, wideband: bool
) -> None:
    codec = get_codec(name)
    assert (codec.name, codec.sample_rate, codec.rtp_clock) == (canonical, rate, clock)
    assert (codec.payload_type, codec.wideband) == (payload_type, wideband)


@pytest.mark.parametrize(
    ("name", "ie", "bpl", "bpl_without_plc"),
    [
        ("PCMU", 0.0, 25.1, 4.3),
        ("PCMA", 0.0, 25.1, 4.3),
        ("G722", 13.0, 25.1, 4.3),
        ("GSM", 20.0, 10.0, 10.0),
    ],
)
def test_impairment_values(name: str, ie: float, bpl: float, bpl_without_plc: float) -> None:
    codec = get_codec(name)
    assert (codec.ie, codec.bpl, codec.bpl_without_plc) == (ie, bpl, bpl_without_plc)


@pytest.mark.parametrize("name", ["iLBC", "speex", "GSM", "G722"])
def test_values_not_from_g113_say_so(name: str) -> None:
    assert "assumption" in get_codec(name).impairment_source


def test_unknown_codec_lists_known_names() -> None:
    with pytest.raises(UnknownCodecError) as caught:
        get_codec("opus")
    assert isinstance(caught.value, KeyError)
    assert str(caught.value) == (
        "unknown codec 'opus'; known codecs: PCMU, PCMA, G722, GSM, iLBC, speex"
    )


@pytest.mark.parametrize(
    ("name", "rate", "max_error"), [("PCMU", 8000, 0.02), ("PCMA", 8000, 0.02)]
)
def test_g711_round_trip_is_close(
    nb_reference: np.ndarray, name: str, rate: int, max_error: float
) -> None:
    coded = transcode(nb_reference, rate, get_codec(name))
    assert coded.shape == nb_reference.shape
    assert 0 < np.max(np.abs(coded - nb_reference)) < max_error


def test_g722_keeps_length_and_its_22_sample_delay(wb_reference: np.ndarray) -> None:
    coded = transcode(wb_reference, 16000, get_codec("G722"))
    assert coded.shape == wb_reference.shape
    lagged = np.corrcoef(coded[22:], wb_reference[:-22])[0, 1]
    assert lagged > 0.99


def test_narrowband_codec_on_wideband_audio_resamples(wb_reference: np.ndarray) -> None:
    coded = transcode(wb_reference, 16000, get_codec("PCMU"))
    assert coded.shape == wb_reference.shape
    spectrum = np.abs(np.fft.rfft(coded)) ** 2
    above_4k = spectrum[np.fft.rfftfreq(coded.size, 1 / 16000) > 4100].sum()
    assert above_4k / spectrum.sum() < 1e-3


@pytest.mark.parametrize("name", ["GSM", "iLBC", "speex"])
def test_codecs_without_encoder_raise_ceiling_unavailable(
    nb_reference: np.ndarray, name: str
) -> None:
    with pytest.raises(CeilingUnavailable, match=name):
        transcode(nb_reference, 8000, get_codec(name))


def test_registry_keys_are_upper_case_names() -> None:
    assert all(key == codec.name.upper() for key, codec in CODECS.items())
