"""The SIP call probe: validate, dial through the engine, score, and describe the call.

Bad input (URI, codec, audio) is refused before anything is dialled; everything
that happens once a call is attempted ends up as a :class:`CallResult`, never as
an exception.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from media.audio import AudioError, load_audio, write_wav
from media.codecs import UnknownCodecError, get_codec
from media.library import default_reference
from probes.result import CallResult, Outcome
from probes.scoring import CallQuality, CallQualityInput, one_way_delay_ms, score_call
from probes.sip.engine import CallEngine
from probes.sip.spec import CallSpec, RawCall, Registration
from probes.sip.uri import InvalidSipUri, parse_sip_uri

RETURN_MARGIN_S = 0.5
"""Talk time kept free at the end of a call for the audio's round trip and buffers."""


class InvalidCallRequest(ValueError):
    """The request cannot be dialled (bad URI, unknown codec, unusable audio)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class CallRequest:
    """What a user asks for: ``callprobe call`` flags or a probe's settings."""

    target: str
    codec: str = "PCMU"
    transport: str | None = None
    talk_s: float = 10.0
    setup_timeout_s: float = 10.0
    reference: Path | None = None
    registration: Registration | None = None
    probe: str = "adhoc"


def prepare(request: CallRequest, workdir: Path) -> CallSpec:
    """Validate a request and write the reference at the codec's rate; raises on bad input."""
    try:
        uri = parse_sip_uri(request.target, request.transport)
        codec = get_codec(request.codec)
    except (InvalidSipUri, UnknownCodecError) as exc:
        raise InvalidCallRequest(str(exc)) from exc
    if not 2.0 <= request.talk_s <= 3600 or not 0.5 <= request.setup_timeout_s <= 120:
        raise InvalidCallRequest("talk time must be 2-3600 s and setup timeout 0.5-120 s")
    source = request.reference or default_reference(codec.sample_rate)
    try:
        samples = load_audio(source, codec.sample_rate)
    except AudioError as exc:
        raise InvalidCallRequest(str(exc)) from exc
    # What cannot come back before hangup must not be scored as lost.
    playable = int((request.talk_s - RETURN_MARGIN_S) * codec.sample_rate)
    reference = workdir / f"reference-{codec.sample_rate}.wav"
    write_wav(reference, samples[:playable], codec.sample_rate)
    return CallSpec(
        uri=str(uri),
        codec=codec.name,
        reference=reference,
        record_to=workdir / "received.wav",
        talk_s=request.talk_s,
        setup_timeout_s=request.setup_timeout_s,
        registration=request.registration,
    )


async def run_call(engine: CallEngine, scorer: Executor, request: CallRequest) -> CallResult:
    """Place, measure and score one call; only bad input raises (before dialling)."""
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="callprobe-") as tmp:
        spec = prepare(request, Path(tmp))
        raw = await engine.place(spec)
        quality = await _score(scorer, spec, raw)
    return build_result(request, spec, raw, quality, started)


async def _score(scorer: Executor, spec: CallSpec, raw: RawCall) -> CallQuality | None:
    if raw.stream is None:
        return None
    stream = raw.stream
    rtt_ms = None if stream.rtt_mean_us is None else stream.rtt_mean_us / 1000
    item = CallQualityInput(
        reference=spec.reference,
        recording=raw.recording,
        codec=spec.codec,
        rx_loss_pct=_pct(stream.rx_lost, stream.rx_packets + stream.rx_lost),
        jb_discard_pct=_pct(stream.jb_discards, stream.rx_packets),
        one_way_delay_ms=one_way_delay_ms(rtt_ms, stream.jb_avg_delay_ms),
    )
    return await asyncio.get_running_loop().run_in_executor(scorer, score_call, item)


def _pct(part: int, whole: int) -> float:
    return 0.0 if whole <= 0 else round(100.0 * part / whole, 3)


def invalid_result(request: CallRequest, error: str) -> CallResult:
    """The result of a request refused before dialling."""
    return CallResult(
        probe=request.probe, target=request.target, outcome=Outcome.INVALID_INPUT, error=error
    )


def _outcome(raw: RawCall, quality: CallQuality | None) -> Outcome:
    if raw.register_status is not None and raw.register_status // 100 != 2:
        return Outcome.REGISTER_FAILED
    if raw.timed_out:
        return Outcome.SETUP_TIMEOUT
    if raw.sip_status is None:
        return Outcome.ENGINE_ERROR
    if raw.sip_status // 100 != 2:
        return Outcome.SIP_ERROR
    if quality is None or quality.no_audio:
        return Outcome.NO_AUDIO
    return Outcome.OK


def _error(raw: RawCall, quality: CallQuality | None, spec: CallSpec) -> str | None:
    if raw.timed_out:
        return f"no final answer within the setup timeout of {spec.setup_timeout_s:g} s"
    if raw.error:
        return raw.error
    if raw.sip_status is not None and raw.sip_status // 100 != 2:
        return f"{raw.sip_status} {raw.sip_reason or ''}".strip()
    if quality is None:
        return "answered, but no RTP stream was set up (codec or SDP mismatch?)"
    if quality.no_audio:
        return f"no audio received: {quality.detail or 'silence'}"
    return None


def build_result(
    request: CallRequest,
    spec: CallSpec,
    raw: RawCall,
    quality: CallQuality | None,
    started: datetime,
) -> CallResult:
    """Combine what the worker measured and what scoring computed into one result."""
    s = raw.stream
    q = quality
    return CallResult(
        run_id=uuid.uuid4(),
        probe=request.probe,
        target=request.target,
        started_at=started,
        outcome=_outcome(raw, quality),
        error=_error(raw, quality, spec),
        transport=parse_sip_uri(spec.uri).transport,
        codec=s.codec if s else spec.codec,
        sip_status=raw.sip_status,
        sip_reason=raw.sip_reason,
        register_ms=raw.register_ms,
        pdd_ms=raw.pdd_ms,
        setup_ms=raw.setup_ms,
        talk_s=raw.talk_s,
        rx_packets=s.rx_packets if s else None,
        rx_lost=s.rx_lost if s else None,
        rx_loss_pct=_pct(s.rx_lost, s.rx_packets + s.rx_lost) if s else None,
        tx_packets=s.tx_packets if s else None,
        tx_lost=s.tx_lost if s else None,
        tx_loss_pct=_pct(s.tx_lost, s.tx_packets) if s and s.tx_lost is not None else None,
        jitter_ms=s.rx_jitter_mean_us / 1000 if s else None,
        jitter_max_ms=s.rx_jitter_max_us / 1000 if s else None,
        rtt_ms=s.rtt_mean_us / 1000 if s and s.rtt_mean_us is not None else None,
        jb_discards=s.jb_discards if s else None,
        jb_empty=s.jb_empty if s else None,
        jb_delay_ms=s.jb_avg_delay_ms if s else None,
        pesq_mos=q.pesq_mos if q else None,
        pesq_mode=q.pesq_mode if q else None,
        pesq_ceiling=q.pesq_ceiling if q else None,
        r_factor=q.r_factor if q else None,
        emodel_mos=q.emodel_mos if q else None,
        r0=q.r0 if q else None,
        ie_eff=q.ie_eff if q else None,
        id_delay=q.id_delay if q else None,
    )
