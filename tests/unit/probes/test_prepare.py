"""Bad requests are refused before dialling, with a message that says why."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from probes.call_probe import CallRequest, InvalidCallRequest, prepare


def _tone(path: Path, seconds: float, rate: int, channels: int = 1, amplitude: float = 0.3) -> Path:
    t = np.arange(int(seconds * rate)) / rate
    # speech-like: a 200 Hz carrier switched on and off every 0.4 s
    signal = amplitude * np.sin(2 * np.pi * 200 * t) * (np.floor(t / 0.4) % 2)
    data = np.repeat(signal[:, None], channels, axis=1) if channels > 1 else signal
    sf.write(path, data, rate)
    return path


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target": "echo@127.0.0.1"}, "must start with 'sip:'"),
        ({"target": "sip:echo@127.0.0.1:99999"}, "port"),
        ({"target": "sip:echo@127.0.0.1", "codec": "OPUS"}, "OPUS"),
        ({"target": "sip:echo@127.0.0.1", "transport": "tls"}, "transport"),
        ({"target": "sip:echo@127.0.0.1", "talk_s": 0.1}, "talk time"),
        ({"target": "sip:echo@127.0.0.1", "setup_timeout_s": 0}, "setup timeout"),
    ],
)
def test_invalid_requests(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidCallRequest, match=message):
        prepare(CallRequest(**kwargs), tmp_path)  # type: ignore[arg-type]


def test_silent_reference_is_refused(tmp_path: Path) -> None:
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(8000 * 3), 8000)
    with pytest.raises(InvalidCallRequest, match="silent"):
        prepare(CallRequest(target="sip:x@127.0.0.1", reference=silent), tmp_path)


def test_too_short_reference_is_refused(tmp_path: Path) -> None:
    short = _tone(tmp_path / "short.wav", 0.3, 8000)
    with pytest.raises(InvalidCallRequest, match="short"):
        prepare(CallRequest(target="sip:x@127.0.0.1", reference=short), tmp_path)


def test_not_audio_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "notes.wav"
    fake.write_text("this is not audio\n" * 100)
    with pytest.raises(InvalidCallRequest, match=r"notes\.wav"):
        prepare(CallRequest(target="sip:x@127.0.0.1", reference=fake), tmp_path)


def test_missing_reference_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidCallRequest, match=r"missing\.wav"):
        prepare(CallRequest(target="sip:x@127.0.0.1", reference=tmp_path / "missing.wav"), tmp_path)


def test_other_rates_and_stereo_are_resampled_to_the_codec_rate(tmp_path: Path) -> None:
    source = _tone(tmp_path / "cd.wav", 4.0, 44100, channels=2)
    spec = prepare(CallRequest(target="sip:x@127.0.0.1", codec="G722", reference=source), tmp_path)
    info = sf.info(spec.reference)
    assert (info.samplerate, info.channels) == (16000, 1)
    assert abs(info.duration - 4.0) < 0.01
    assert spec.codec == "G722"


def test_default_reference_follows_the_codec_rate(tmp_path: Path) -> None:
    spec = prepare(CallRequest(target="sip:x@127.0.0.1", codec="pcma"), tmp_path)
    assert sf.info(spec.reference).samplerate == 8000
    assert spec.codec == "PCMA"
    assert spec.uri == "sip:x@127.0.0.1"
