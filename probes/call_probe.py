"""The SIP call probe: validate, dial through the engine, score, and describe the call.

Bad input (URI, codec, audio) is refused before anything is dialled; everything
that happens once a call is attempted ends up as a :class:`CallResult`, never as
an exception.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import Callable
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

MIN_SCORED_AUDIO_S = 4.0
"""Least audio a dropped call must have carried to be scored: PESQ needs several
utterances of the reference, and a loss rate over a second or two of packets says
little about the line."""

ONE_WAY = {"sendonly": "outbound", "recvonly": "inbound", "inactive": "both"}
"""Audio that cannot flow, by the media direction of the far end's SDP answer
(RFC 3264 section 6.1: its ``sendonly`` means it will not receive ours)."""


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
    max_redirects: int = 0


def prepare(request: CallRequest, workdir: Path) -> CallSpec:
    """Validate a request and write the reference at the codec's rate; raises on bad input."""
    try:
        uri = parse_sip_uri(request.target, request.transport)
        codec = get_codec(request.codec)
    except (InvalidSipUri, UnknownCodecError) as exc:
        raise InvalidCallRequest(str(exc)) from exc
    if not 2.0 <= request.talk_s <= 3600 or not 0.5 <= request.setup_timeout_s <= 120:
        raise InvalidCallRequest("talk time must be 2-3600 s and setup timeout 0.5-120 s")
    if not 0 <= request.max_redirects <= 10:
        raise InvalidCallRequest("redirects to follow must be 0-10")
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
        max_redirects=request.max_redirects,
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
    """Scores when audio flowed: none for a call with no packets, or too short a drop."""
    stream = raw.stream
    if stream is None or stream.rx_packets == 0 or _too_short(raw):
        return None
    reference = spec.reference
    if raw.dropped_after_ms is not None:
        reference = _cut_reference(spec, raw.dropped_after_ms / 1000)
    rtt_ms = None if stream.rtt_mean_us is None else stream.rtt_mean_us / 1000
    item = CallQualityInput(
        reference=reference,
        recording=raw.recording,
        codec=spec.codec,
        rx_loss_pct=_pct(stream.rx_lost, stream.rx_packets + stream.rx_lost),
        jb_discard_pct=_pct(stream.jb_discards, stream.rx_packets),
        one_way_delay_ms=one_way_delay_ms(rtt_ms, stream.jb_avg_delay_ms),
    )
    return await asyncio.get_running_loop().run_in_executor(scorer, score_call, item)


def _too_short(raw: RawCall) -> bool:
    return raw.dropped_after_ms is not None and raw.dropped_after_ms / 1000 < MIN_SCORED_AUDIO_S


def _cut_reference(spec: CallSpec, talk_s: float) -> Path:
    """The part of the reference that could come back before the far end hung up."""
    rate = get_codec(spec.codec).sample_rate
    samples = load_audio(spec.reference, rate)
    cut = spec.reference.with_name(f"reference-cut-{rate}.wav")
    write_wav(cut, samples[: int((talk_s - RETURN_MARGIN_S) * rate)], rate)
    return cut


def _pct(part: int, whole: int) -> float:
    return 0.0 if whole <= 0 else round(100.0 * part / whole, 3)


def invalid_result(request: CallRequest, error: str) -> CallResult:
    """The result of a request refused before dialling."""
    return CallResult(
        probe=request.probe, target=request.target, outcome=Outcome.INVALID_INPUT, error=error
    )


def _outcome(raw: RawCall, no_audio_way: str | None) -> Outcome:
    if raw.register_status is not None and raw.register_status // 100 != 2:
        return Outcome.REGISTER_FAILED
    if raw.timed_out or (raw.sip_status is None and raw.local_status == 408):
        return Outcome.SETUP_TIMEOUT
    if raw.sip_status is None:
        return Outcome.UNREACHABLE if raw.local_status and not raw.error else Outcome.ENGINE_ERROR
    if raw.sip_status // 100 == 3:
        return Outcome.REDIRECTED
    if raw.sip_status // 100 != 2:
        return Outcome.SIP_ERROR
    if raw.answer is None or not raw.media_active:
        return Outcome.NEGOTIATION_FAILED
    if raw.dropped_after_ms is not None:
        return Outcome.DROPPED
    if no_audio_way is not None:
        return Outcome.NO_AUDIO
    return Outcome.OK


def audio_failed(raw: RawCall, quality: CallQuality | None) -> str | None:
    """Which way audio did not flow: ``inbound`` (nothing, or only silence, reached us),
    ``outbound`` (the far end refused or, by its RTCP, got none of ours) or ``both``."""
    ways: set[str] = set()
    held = ONE_WAY.get(raw.answer.direction) if raw.answer else None
    if held:
        ways.update(("inbound", "outbound") if held == "both" else (held,))
    stream = raw.stream
    if stream is None or stream.rx_packets == 0 or (quality is not None and quality.no_audio):
        ways.add("inbound")
    if stream is not None and stream.tx_packets > 0 and stream.tx_lost == stream.tx_packets:
        ways.add("outbound")
    if not ways:
        return None
    return "both" if len(ways) == 2 else ways.pop()


def _error(
    raw: RawCall, quality: CallQuality | None, spec: CallSpec, outcome: Outcome
) -> str | None:
    if raw.error and outcome is not Outcome.SETUP_TIMEOUT:
        return raw.error
    explain = _EXPLAIN.get(outcome)
    if explain is not None:
        return explain(raw, quality, spec)
    if outcome is Outcome.SIP_ERROR:
        return f"{raw.sip_status} {raw.sip_reason or ''}".strip()
    return None


def _timeout_error(raw: RawCall, _: CallQuality | None, spec: CallSpec) -> str:
    waited = f"no final answer within {spec.setup_timeout_s:g} s"
    if raw.pdd_ms is not None:
        return f"{waited}; it rang ({raw.provisional_status}) after {raw.pdd_ms:.0f} ms"
    if raw.provisional_status is not None:
        return f"{waited}; only {raw.provisional_status} arrived, never ringing"
    return f"{waited}; no response at all, not even 100 Trying"


def _unreachable_error(raw: RawCall, _: CallQuality | None, __: CallSpec) -> str:
    local = f"{raw.local_status} {raw.local_reason or ''}".strip()
    return f"no SIP response arrived; pjsua2 gave up with {local} (made up locally)"


def _redirect_error(raw: RawCall, _: CallQuality | None, spec: CallSpec) -> str:
    target = raw.redirect_to or "no Contact"
    if raw.redirect_loop:
        hops = " -> ".join((spec.uri, *raw.redirects, target))
        return f"redirect loop: {hops}"
    if spec.max_redirects == 0:
        return f"{raw.sip_status} redirect to {target} (following redirects is off)"
    return f"{raw.sip_status} redirect to {target} after {len(raw.redirects)} hops (the limit)"


def _negotiation_error(raw: RawCall, _: CallQuality | None, spec: CallSpec) -> str:
    if raw.answer is None:
        return f"the {raw.sip_status} answer carried no SDP: no media was agreed"
    codecs = ", ".join(raw.answer.codecs) or "no codec"
    return f"the far end answered with {codecs}; we offered only {spec.codec}"


def _drop_error(raw: RawCall, quality: CallQuality | None, _: CallSpec) -> str:
    assert raw.dropped_after_ms is not None
    text = f"the far end hung up {raw.dropped_after_ms / 1000:.1f} s after answering"
    if raw.end_reason:
        text += f" (Reason: {raw.end_reason})"
    if quality is None:
        text += f"; not scored: under {MIN_SCORED_AUDIO_S:g} s of audio flowed"
    return text


def _no_audio_error(raw: RawCall, quality: CallQuality | None, __: CallSpec) -> str:
    way = audio_failed(raw, quality)
    ways = {"inbound": "from the far end", "outbound": "to the far end", "both": "either way"}
    if raw.answer is not None and raw.answer.direction in ONE_WAY:
        return f"the far end answered a={raw.answer.direction}: no audio {ways[way or 'both']}"
    if raw.stream is None or raw.stream.rx_packets == 0:
        text = "no audio received: no RTP packet arrived"
    elif quality is not None and quality.no_audio:
        text = f"no audio received: {quality.detail or 'silence'}"
    else:
        text = "no audio reached the far end"
    return text if way != "both" else f"{text}; the far end's RTCP says it got none of ours"


_EXPLAIN: dict[Outcome, Callable[[RawCall, CallQuality | None, CallSpec], str]] = {
    Outcome.SETUP_TIMEOUT: _timeout_error,
    Outcome.UNREACHABLE: _unreachable_error,
    Outcome.REDIRECTED: _redirect_error,
    Outcome.NEGOTIATION_FAILED: _negotiation_error,
    Outcome.DROPPED: _drop_error,
    Outcome.NO_AUDIO: _no_audio_error,
}
"""The sentence for each outcome that needs more than the status line."""


def build_result(
    request: CallRequest,
    spec: CallSpec,
    raw: RawCall,
    quality: CallQuality | None,
    started: datetime,
) -> CallResult:
    """Combine what the worker measured and what scoring computed into one result.

    A call without audio carries no score and no loss or jitter: with no packets
    nothing was measured, and 0 % loss or an E-model MOS would be a lie.
    """
    no_audio_way = audio_failed(raw, quality)
    outcome = _outcome(raw, no_audio_way)
    rx = raw.stream if raw.stream and raw.stream.rx_packets + raw.stream.rx_lost > 0 else None
    q = quality if outcome in (Outcome.OK, Outcome.DROPPED) else None
    stream = raw.stream
    return CallResult(
        run_id=uuid.uuid4(),
        probe=request.probe,
        target=request.target,
        started_at=started,
        outcome=outcome,
        error=_error(raw, quality, spec, outcome),
        transport=parse_sip_uri(spec.uri).transport,
        codec=stream.codec if stream else spec.codec,
        sip_status=raw.sip_status,
        sip_reason=raw.sip_reason,
        register_ms=raw.register_ms,
        pdd_ms=raw.pdd_ms,
        setup_ms=raw.setup_ms,
        talk_s=raw.talk_s,
        rx_packets=stream.rx_packets if stream else None,
        rx_lost=rx.rx_lost if rx else None,
        rx_loss_pct=_pct(rx.rx_lost, rx.rx_packets + rx.rx_lost) if rx else None,
        tx_packets=stream.tx_packets if stream else None,
        tx_lost=stream.tx_lost if stream else None,
        tx_loss_pct=_pct(stream.tx_lost, stream.tx_packets)
        if stream and stream.tx_lost is not None
        else None,
        jitter_ms=rx.rx_jitter_mean_us / 1000 if rx else None,
        jitter_max_ms=rx.rx_jitter_max_us / 1000 if rx else None,
        rtt_ms=stream.rtt_mean_us / 1000 if stream and stream.rtt_mean_us is not None else None,
        jb_discards=rx.jb_discards if rx else None,
        jb_empty=stream.jb_empty if stream else None,
        jb_delay_ms=rx.jb_avg_delay_ms if rx else None,
        pesq_mos=q.pesq_mos if q else None,
        pesq_mode=q.pesq_mode if q else None,
        pesq_ceiling=q.pesq_ceiling if q else None,
        r_factor=q.r_factor if q else None,
        emodel_mos=q.emodel_mos if q else None,
        r0=q.r0 if q else None,
        ie_eff=q.ie_eff if q else None,
        id_delay=q.id_delay if q else None,
        provisional_status=raw.provisional_status,
        redirect_to=raw.redirect_to,
        answer_codecs=", ".join(raw.answer.codecs) if raw.answer else None,
        media_direction=raw.answer.direction if raw.answer else None,
        ended_by=_ended_by(raw),
        dropped_after_ms=raw.dropped_after_ms,
        end_reason=raw.end_reason,
        audio_failed=no_audio_way if outcome is Outcome.NO_AUDIO else None,
    )


def _ended_by(raw: RawCall) -> str | None:
    if raw.sip_status is None or raw.sip_status // 100 != 2:
        return None
    return "far_end" if raw.far_end_bye else "probe"
