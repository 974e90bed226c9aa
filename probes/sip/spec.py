"""What the engine is asked to do and what a worker reports back (picklable, no pjsua2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from probes.sip.sdp import sdp_codecs, sdp_direction


class EngineError(RuntimeError):
    """The engine could not start or lost a worker (here, not in ``engine``, so callers
    can catch it without importing the engine and its media stack)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Registration:
    """Optional REGISTER with digest auth before the call."""

    registrar: str
    username: str
    password: str = field(repr=False)
    realm: str = "*"
    timeout_s: float = 10.0


@dataclass(frozen=True, kw_only=True, slots=True)
class CallSpec:
    """One test call: dial ``uri``, play ``reference``, record, hang up after ``talk_s``."""

    uri: str
    codec: str
    reference: Path
    record_to: Path
    talk_s: float = 10.0
    setup_timeout_s: float = 10.0
    registration: Registration | None = None
    caller: str = "callprobe"
    max_redirects: int = 0
    """3xx answers followed to a new target (0: report the redirect, follow none)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class StreamCounters:
    """RTP/RTCP and jitter-buffer numbers read from pjsua2 before hangup."""

    codec: str
    rx_packets: int
    rx_lost: int
    rx_jitter_mean_us: float
    rx_jitter_max_us: float
    tx_packets: int
    tx_lost: int | None
    rtt_mean_us: float | None
    jb_discards: int
    jb_empty: int
    jb_avg_delay_ms: float


@dataclass(frozen=True, kw_only=True, slots=True)
class Answer:
    """The far end's SDP answer: its audio codecs and media direction."""

    codecs: tuple[str, ...]
    direction: str

    @classmethod
    def of(cls, sdp: str) -> Answer:
        return cls(codecs=sdp_codecs(sdp), direction=sdp_direction(sdp))


@dataclass(frozen=True, kw_only=True, slots=True)
class RawCall:
    """A worker's account of one call; timings in ms from the INVITE being sent.

    ``sip_status``/``sip_reason`` are the final response that arrived on the wire
    (``None`` if none did); ``local_status``/``local_reason`` are what pjsua2 said,
    which may be a code it made up (406, 487, a local 408 or 503).
    """

    sip_status: int | None
    sip_reason: str | None
    local_status: int | None = None
    local_reason: str | None = None
    provisional_status: int | None = None
    register_status: int | None = None
    register_ms: float | None = None
    pdd_ms: float | None = None
    setup_ms: float | None = None
    talk_s: float | None = None
    timed_out: bool = False
    error: str | None = None
    stream: StreamCounters | None = None
    recording: Path | None = None
    answer: Answer | None = None
    media_active: bool = False
    redirect_to: str | None = None
    redirects: tuple[str, ...] = ()
    redirect_loop: bool = False
    far_end_bye: bool = False
    dropped_after_ms: float | None = None
    end_reason: str | None = None
