"""The one result type every probe returns (Gatus style), and the call spec.

This is the light model module that `store` may import: no pjsua2, no I/O.
Errors are values here, not exceptions: once a probe has run, whatever
happened is described by `outcome` and `error`.

Metric definitions (units in the field name):

- ``sip_status`` / ``sip_reason``: final response to the INVITE (RFC 3261).
- ``register_ms``: Registration Request Delay, REGISTER sent to its final 2xx
  (RFC 6076 section 4.1, RRD).
- ``pdd_ms``: Session Request Delay / post-dial delay, INVITE sent to the first
  provisional 18x (RFC 6076 section 4.2, SRD). ``None`` if no 18x arrived.
- ``setup_ms``: INVITE sent to the 200 OK (the successful-setup SRD variant of
  RFC 6076 section 4.2 measured to the final response).
- ``rx_loss_pct`` / ``tx_loss_pct``: RTP packets lost / expected, per RFC 3550
  section 6.4.1 (extended highest sequence minus packets received). ``tx`` is
  what the far end said in its last RTCP receiver report (sent about every 5 s),
  so losses in the call's last seconds are not in it; ``None`` without RTCP.
- ``jitter_ms`` / ``jitter_max_ms``: RFC 3550 section 6.4.1 interarrival jitter,
  mean and maximum of the running estimate over the call.
- ``rtt_ms``: round trip from RTCP SR/RR (RFC 3550 section 6.4.1, LSR/DLSR).
- ``jb_discards`` / ``jb_empty``: jitter-buffer frames discarded (late/overflow)
  and empty-buffer events (frames the listener did not get).
- ``pesq_mos``: MOS-LQO by ITU-T P.862.1 (narrowband) or P.862.2 (wideband)
  after cross-correlation alignment; ``pesq_ceiling`` is the same reference
  scored offline through the same codec (the best a perfect network can do).
- ``r_factor`` / ``emodel_mos``: ITU-T G.107 transmission rating and MOS-CQE
  from measured loss, jitter-buffer discards, delay and codec (G.113 Ie/Bpl);
  ``ie_eff``, ``id_delay`` and ``r0`` break the R down so a user sees why.
  Scores, loss and jitter are ``None`` when no audio flowed: no packets is not 0 %
  loss, and a silent call has no quality to rate.

What happened on the wire (``sip_status`` is only ever a response that arrived):

- ``provisional_status``: the highest 1xx answer to the INVITE (100 Trying, 180,
  183), so a setup timeout says whether the far end said anything at all.
- ``redirect_to``: the Contact of a 3xx final answer.
- ``answer_codecs`` / ``media_direction``: the audio codecs and direction
  attribute (RFC 3264) of the far end's SDP answer.
- ``ended_by``: ``far_end`` when its BYE ended the call, ``probe`` when we did.
- ``dropped_after_ms`` / ``end_reason``: for a dropped call, answer to the far
  end's BYE, and that BYE's Reason header (RFC 3326, e.g. a Q.850 cause).
- ``audio_failed``: for ``no_audio``, which way audio did not flow: ``inbound``
  (nothing, or silence, reached us), ``outbound`` (the far end refused our audio
  by its SDP, or its RTCP reports receiving none) or ``both``.

Fields of the other probe kinds (all share this one type):

- ``kind``: ``sip_call``, ``sip_options``, ``sip_register``, ``http``, ``tcp``,
  ``icmp`` or ``push``; ``probe_id`` and ``location`` say which scheduled probe
  and which agent location produced it (``None`` for ad-hoc calls).
- ``status_code``: the HTTP status (``sip_status`` holds SIP answers).
- ``latency_ms``: HTTP request to response headers, TCP connect time, ICMP mean
  round trip, or SIP OPTIONS request to final response. ICMP loss is
  ``rx_loss_pct`` with ``rx_packets`` replies.
- ``load_cpu`` / ``load_ram``: what a push reporter said about its host, ratios
  in 0..1 (Crisp's push load).
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    """What happened to the run as a whole."""

    OK = "ok"  # call answered, media measured
    NO_AUDIO = "no_audio"  # answered, but audio did not flow one way or both
    DROPPED = "dropped"  # answered, then the far end hung up before the talk time ended
    NEGOTIATION_FAILED = "negotiation_failed"  # 2xx without SDP, or no codec in common
    SIP_ERROR = "sip_error"  # a final 4xx-6xx answer (486, 503, 488, ...)
    REDIRECTED = "redirected"  # a final 3xx not followed (off, hop limit, or a loop)
    SETUP_TIMEOUT = "setup_timeout"  # no final answer within the setup timeout
    UNREACHABLE = "unreachable"  # no SIP response at all: the transport failed
    REGISTER_FAILED = "register_failed"  # REGISTER refused (401/403) or timed out
    INVALID_INPUT = "invalid_input"  # bad URI, bad audio: nothing was dialled
    ENGINE_ERROR = "engine_error"  # our side failed (transport bind, worker died)
    FAILED = "failed"  # a check's target answered wrongly (HTTP status, body, refused)
    TIMEOUT = "timeout"  # a check's target did not answer in time


@dataclass(frozen=True, kw_only=True, slots=True)
class CallResult:
    """One probe run, measured (a SIP call or any other kind). ``None`` = not measured."""

    run_id: uuid.UUID = field(default_factory=uuid.uuid4)
    probe: str = "adhoc"
    target: str
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    outcome: Outcome
    error: str | None = None
    transport: str = "udp"
    codec: str | None = None
    sip_status: int | None = None
    sip_reason: str | None = None
    register_ms: float | None = None
    pdd_ms: float | None = None
    setup_ms: float | None = None
    talk_s: float | None = None
    rx_packets: int | None = None
    rx_lost: int | None = None
    rx_loss_pct: float | None = None
    tx_packets: int | None = None
    tx_lost: int | None = None
    tx_loss_pct: float | None = None
    jitter_ms: float | None = None
    jitter_max_ms: float | None = None
    rtt_ms: float | None = None
    jb_discards: int | None = None
    jb_empty: int | None = None
    jb_delay_ms: float | None = None
    pesq_mos: float | None = None
    pesq_mode: str | None = None
    pesq_ceiling: float | None = None
    r_factor: float | None = None
    emodel_mos: float | None = None
    r0: float | None = None
    ie_eff: float | None = None
    id_delay: float | None = None
    kind: str = "sip_call"
    probe_id: uuid.UUID | None = None
    location: str | None = None
    status_code: int | None = None
    latency_ms: float | None = None
    load_cpu: float | None = None
    load_ram: float | None = None
    provisional_status: int | None = None
    redirect_to: str | None = None
    answer_codecs: str | None = None
    media_direction: str | None = None
    ended_by: str | None = None
    dropped_after_ms: float | None = None
    end_reason: str | None = None
    audio_failed: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (uuid and datetime as strings)."""
        data = asdict(self)
        data["run_id"] = str(self.run_id)
        data["started_at"] = self.started_at.isoformat()
        data["outcome"] = self.outcome.value
        data["probe_id"] = None if self.probe_id is None else str(self.probe_id)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CallResult:
        """Inverse of :meth:`to_json`; unknown keys are refused."""
        values = dict(data)
        values["run_id"] = uuid.UUID(str(values["run_id"]))
        values["started_at"] = datetime.fromisoformat(str(values["started_at"]))
        values["outcome"] = Outcome(values["outcome"])
        if values.get("probe_id") is not None:
            values["probe_id"] = uuid.UUID(str(values["probe_id"]))
        return cls(**values)
