"""The per-call page's words: every stored metric with its unit, the outcome in a
sentence, the E-model breakdown and the call's timeline from stored values.

Pure: a stored result in, text and rows out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from probes.result import CallResult, Outcome

if TYPE_CHECKING:
    from media.codecs import Codec

OUTCOMES: dict[Outcome, str] = {
    Outcome.OK: "The call was answered and its audio measured.",
    Outcome.NO_AUDIO: "The call was answered, but audio did not flow one way or both.",
    Outcome.DROPPED: "The call was answered, then the far end hung up before the talk time ended.",
    Outcome.NEGOTIATION_FAILED: (
        "The far end answered without usable media (no SDP, or no codec in common)."
    ),
    Outcome.SIP_ERROR: "The far end refused the call with a final 4xx-6xx answer.",
    Outcome.REDIRECTED: "The far end redirected the call (3xx) and the redirect was not followed.",
    Outcome.SETUP_TIMEOUT: "No final answer arrived within the setup timeout.",
    Outcome.UNREACHABLE: "No SIP response at all: the transport failed.",
    Outcome.REGISTER_FAILED: "Registration was refused or timed out, so no call was placed.",
    Outcome.INVALID_INPUT: "Nothing was dialled: the target or the audio was not usable.",
    Outcome.ENGINE_ERROR: "The probe's own side failed (transport bind, worker died).",
    Outcome.FAILED: "The check's target answered wrongly.",
    Outcome.TIMEOUT: "The check's target did not answer in time.",
}  # fmt: skip

AUDIO_FAILED = {
    "inbound": "no audio (or only silence) reached the probe",
    "outbound": "the far end refused the probe's audio or reported receiving none",
    "both": "audio flowed in neither direction",
}

METRICS: tuple[tuple[str, str, str], ...] = (
    ("register_ms", "REGISTER delay (RFC 6076 RRD)", "ms"),
    ("pdd_ms", "Post-dial delay (RFC 6076 SRD)", "ms"),
    ("setup_ms", "Setup time (INVITE to 200)", "ms"),
    ("talk_s", "Talk time", "s"),
    ("rx_packets", "Packets received", "packets"),
    ("rx_lost", "Packets lost on the way in", "packets"),
    ("rx_loss_pct", "Loss, received", "%"),
    ("tx_packets", "Packets sent", "packets"),
    ("tx_lost", "Packets lost on the way out (far end's RTCP)", "packets"),
    ("tx_loss_pct", "Loss, sent (far end's RTCP)", "%"),
    ("jitter_ms", "Jitter, mean (RFC 3550)", "ms"),
    ("jitter_max_ms", "Jitter, maximum", "ms"),
    ("rtt_ms", "Round trip (RTCP)", "ms"),
    ("jb_discards", "Jitter-buffer discards", "frames"),
    ("jb_empty", "Jitter-buffer empty", "frames"),
    ("jb_delay_ms", "Jitter-buffer delay", "ms"),
    ("pesq_mos", "PESQ", "MOS-LQO"),
    ("pesq_ceiling", "PESQ codec ceiling", "MOS-LQO"),
    ("emodel_mos", "E-model MOS", "MOS-CQE"),
    ("r_factor", "R-factor", "R"),
    ("r0", "R0 (basic signal-to-noise)", "R"),
    ("ie_eff", "Ie-eff (codec and loss)", "R"),
    ("id_delay", "Id (delay)", "R"),
    ("status_code", "HTTP status", ""),
    ("latency_ms", "Check latency", "ms"),
    ("load_cpu", "CPU load (push)", "ratio"),
    ("load_ram", "RAM load (push)", "ratio"),
)
"""Every stored measurement: column, label, unit."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Measure:
    label: str
    value: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Step:
    """One moment of the call: what happened, when, and how long after the INVITE."""

    label: str
    at: datetime
    offset_ms: float


def measures(result: CallResult) -> list[Measure]:
    """Each stored metric with its unit; "not measured" where the result has none."""
    return [
        Measure(label=label, value=_value(getattr(result, column), unit))
        for column, label, unit in METRICS
    ]


def outcome_sentence(result: CallResult) -> str:
    return OUTCOMES[result.outcome]


def no_score_reason(result: CallResult) -> str | None:
    """Why the call has no MOS (None when it has one)."""
    if result.pesq_mos is not None or result.emodel_mos is not None:
        return None
    if result.outcome is Outcome.NO_AUDIO:
        why = AUDIO_FAILED.get(result.audio_failed or "", "no audio flowed")
        return f"No MOS: {why}, and a call without audio has no quality to rate."
    if result.sip_status is None or not 200 <= result.sip_status < 300:
        return "No MOS: the call was not answered, so there was no audio to rate."
    return "No MOS: this call's audio was not scored."


def emodel_words(result: CallResult) -> str | None:
    """E.g. "R 71.3: codec 0.0, loss 18.4, delay 2.1": Ie-eff split into the codec's own
    Ie (G.113) and what packet loss added, and the delay impairment Id."""
    r, ie_eff, delay = result.r_factor, result.ie_eff, result.id_delay
    if r is None or ie_eff is None or delay is None:
        return None
    codec = _codec(result.codec)
    if codec is None:
        unknown = f"(codec {result.codec!r} has no known Ie)"
        return f"R {r:.1f}: codec and loss {ie_eff:.1f} {unknown}, delay {delay:.1f}"
    words = f"R {r:.1f}: codec {codec.ie:.1f}, loss {ie_eff - codec.ie:.1f}, delay {delay:.1f}"
    return words + (" (G.107.1 wideband scale)" if codec.wideband else "")


def emodel_start(result: CallResult) -> str | None:
    """Where R starts before codec, loss and delay: R0 less the simultaneous impairment
    Is (R = R0 - Is - Id - Ie-eff)."""
    r, r0, ie_eff, delay = result.r_factor, result.r0, result.ie_eff, result.id_delay
    if r is None or r0 is None or ie_eff is None or delay is None:
        return None
    simultaneous = r0 - delay - ie_eff - r
    return f"R0 {r0:.1f} less Is {simultaneous:.1f} = {r0 - simultaneous:.1f}"


def timeline(result: CallResult) -> list[Step]:
    """INVITE, first provisional, answer and BYE, from the stored delays."""
    steps = [("INVITE sent", 0.0)]
    if result.provisional_status is not None and result.pdd_ms is not None:
        first = f"First provisional response (highest {result.provisional_status})"
        steps.append((first, result.pdd_ms))
    if result.setup_ms is not None:
        answer = f"Answer: {result.sip_status or ''} {result.sip_reason or ''}".rstrip()
        steps.append((answer, result.setup_ms))
        steps.extend(_bye(result, result.setup_ms))
    return [
        Step(label=label, at=result.started_at + timedelta(milliseconds=ms), offset_ms=ms)
        for label, ms in steps
    ]


def _bye(result: CallResult, answered_ms: float) -> list[tuple[str, float]]:
    who = {"far_end": "the far end", "probe": "the probe"}.get(result.ended_by or "")
    if result.dropped_after_ms is not None:
        reason = f" (Reason: {result.end_reason})" if result.end_reason else ""
        return [(f"BYE from {who or 'the far end'}{reason}", answered_ms + result.dropped_after_ms)]
    if result.talk_s is not None:
        talked = answered_ms + result.talk_s * 1000
        return [(f"BYE from {who or 'the probe'} after the talk time", talked)]
    return []


def _codec(name: str | None) -> Codec | None:
    if not name:
        return None
    # Imported here: media's codec table brings numpy and PyAV, which only this page needs.
    from media.codecs import UnknownCodecError, get_codec  # noqa: PLC0415

    try:
        return get_codec(name.split("/")[0])
    except UnknownCodecError:
        return None


def _value(value: float | int | None, unit: str) -> str:
    if value is None:
        return "not measured"
    text = f"{value:.2f}" if isinstance(value, float) else str(value)
    return f"{text} {unit}".rstrip()
