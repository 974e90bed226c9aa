"""Codec registry (what pjsua2 can negotiate) and offline encode/decode for codec ceilings.

Impairment values (Ie, Bpl) are narrowband ITU-T G.113 planning values on the
G.107 scale, except for wideband codecs, whose values are on the G.107.1 scale
(Ie,wb, Bpl,wb). Where G.113 has no value, the number is a documented
assumption, named as such in ``impairment_source``, and callers may override it.
"""

import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Literal, cast

import av
import numpy as np
import numpy.typing as npt
from av.audio.codeccontext import AudioCodecContext
from av.audio.frame import AudioFrame

from media.audio import resample
from media.level import FloatArray

if sys.version_info >= (3, 13):
    import audioop  # the audioop-lts package
else:
    # Deprecated in 3.11/3.12, yet kept on purpose: see _g711.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop

Int16Array = npt.NDArray[np.int16]


class UnknownCodecError(KeyError):
    """No codec of that name is registered; the message lists the known names."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class CeilingUnavailable(RuntimeError):
    """The codec has no offline encoder here, so no ceiling can be computed."""


@dataclass(frozen=True, kw_only=True)
class Codec:
    name: str
    sample_rate: int
    """Audio sampling rate: 16000 for G.722 even though its RTP clock is 8000."""
    rtp_clock: int
    payload_type: int | None
    """Static RTP payload type (RFC 3551), or None when it is negotiated dynamically."""
    wideband: bool
    frame_ms: int
    ie: float
    bpl: float
    """Packet-loss robustness with the endpoint's packet-loss concealment."""
    bpl_without_plc: float
    impairment_source: str


PCMU = Codec(
    name="PCMU",
    sample_rate=8000,
    rtp_clock=8000,
    payload_type=0,
    wideband=False,
    frame_ms=20,
    ie=0.0,
    bpl=25.1,
    bpl_without_plc=4.3,
    impairment_source="G.113 Appendix I: Ie 0; Bpl 25.1 with G.711 Appendix I PLC, 4.3 without",
)
PCMA = replace(PCMU, name="PCMA", payload_type=8)
G722 = Codec(
    name="G722",
    sample_rate=16000,
    rtp_clock=8000,  # RFC 3551 keeps G.722's RTP clock at 8000 for historical reasons
    payload_type=9,
    wideband=True,
    frame_ms=20,
    ie=13.0,
    bpl=25.1,
    bpl_without_plc=4.3,
    impairment_source=(
        "G.113 Appendix IV: Ie,wb 13 at 64 kbit/s (G.107.1 scale); Bpl is an assumption "
        "(G.711's 25.1 with PLC, 4.3 without): set the Bpl,wb of your PLC if known"
    ),
)
GSM = Codec(
    name="GSM",
    sample_rate=8000,
    rtp_clock=8000,
    payload_type=3,
    wideband=False,
    frame_ms=20,
    ie=20.0,
    bpl=10.0,
    bpl_without_plc=10.0,
    impairment_source="G.113 Appendix I: Ie 20 (GSM 06.10 full rate); Bpl 10 is an assumption",
)
ILBC = Codec(
    name="iLBC",
    sample_rate=8000,
    rtp_clock=8000,
    payload_type=None,
    wideband=False,
    frame_ms=30,
    ie=11.0,
    bpl=32.0,
    bpl_without_plc=32.0,
    impairment_source="assumption: not in G.113; Ie 11, Bpl 32 (built-in PLC) are estimates",
)
SPEEX = replace(
    ILBC,
    name="speex",
    frame_ms=20,
    bpl=20.0,
    bpl_without_plc=20.0,
    impairment_source="assumption: not in G.113; Ie 11, Bpl 20 (built-in PLC) are estimates",
)

CODECS = MappingProxyType({c.name.upper(): c for c in (PCMU, PCMA, G722, GSM, ILBC, SPEEX)})
"""Codecs pjsua2-python can negotiate, keyed by upper-case name."""


def get_codec(name: str) -> Codec:
    """Codec by name, case-insensitively (``pcmu``, ``G722``, ``ilbc``...)."""
    try:
        return CODECS[name.upper()]
    except KeyError:
        known = ", ".join(codec.name for codec in CODECS.values())
        raise UnknownCodecError(f"unknown codec {name!r}; known codecs: {known}") from None


def transcode(samples: FloatArray, rate: int, codec: Codec) -> FloatArray:
    """Encode and decode ``samples`` offline through ``codec``, back at ``rate``.

    Audio is resampled to the codec's rate and back, as a call would do. The
    result has the input's length; codec delay (22 samples for G.722) is kept,
    alignment is the scorer's job. Raises ``CeilingUnavailable`` for codecs with
    no offline encoder here (GSM, iLBC, speex: PyAV ships decoders only).
    """
    roundtrip = _ROUNDTRIPS.get(codec.name.upper())
    if roundtrip is None:
        raise CeilingUnavailable(f"no offline encoder for {codec.name} in this build")
    pcm = _to_pcm16(resample(samples, rate, codec.sample_rate))
    decoded = _from_pcm16(roundtrip(pcm, codec.sample_rate))
    return _fit(resample(decoded, codec.sample_rate, rate), samples.size)


def _g711(
    encode: Callable[[bytes, int], bytes], decode: Callable[[bytes, int], bytes]
) -> Callable[[Int16Array, int], Int16Array]:
    """G.711 through audioop, which follows the Sun/G.191 reference code.

    PJSIP's G.711 tables derive from the same Sun code, so the offline ceiling
    matches a clean call; FFmpeg's A-law (PyAV) puts 964 of the 65536 inputs on
    a neighbouring level, so it is not used here.
    """

    def roundtrip(pcm: Int16Array, _rate: int) -> Int16Array:
        return np.frombuffer(decode(encode(pcm.tobytes(), 2), 2), dtype=np.int16)

    return roundtrip


def _pyav_roundtrip(codec_name: str) -> Callable[[Int16Array, int], Int16Array]:
    """Encode and decode through FFmpeg via PyAV (the maintained G.722 implementation)."""

    def roundtrip(pcm: Int16Array, rate: int) -> Int16Array:
        encoder = _pyav_context(codec_name, "w", rate)
        encoder.format = "s16"
        frame = AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = rate
        packets = [*encoder.encode(frame), *encoder.encode(None)]
        decoder = _pyav_context(codec_name, "r", rate)
        frames = [decoded for packet in [*packets, None] for decoded in decoder.decode(packet)]
        return np.concatenate([decoded.to_ndarray().reshape(-1) for decoded in frames])

    return roundtrip


def _pyav_context(codec_name: str, mode: Literal["r", "w"], rate: int) -> AudioCodecContext:
    # PyAV's stubs type create() by codec-name literals; ours is an audio codec.
    context = cast(AudioCodecContext, av.CodecContext.create(codec_name, mode))
    context.sample_rate, context.layout = rate, "mono"
    return context


_ROUNDTRIPS: MappingProxyType[str, Callable[[Int16Array, int], Int16Array]] = MappingProxyType(
    {
        "PCMU": _g711(audioop.lin2ulaw, audioop.ulaw2lin),
        "PCMA": _g711(audioop.lin2alaw, audioop.alaw2lin),
        "G722": _pyav_roundtrip("g722"),
    }
)


def _to_pcm16(samples: FloatArray) -> Int16Array:
    return np.clip(np.round(samples * 32768.0), -32768, 32767).astype(np.int16)


def _from_pcm16(pcm: Int16Array) -> FloatArray:
    return pcm.astype(np.float64) / 32768.0


def _fit(samples: FloatArray, size: int) -> FloatArray:
    return np.pad(samples[:size], (0, max(size - samples.size, 0)))
