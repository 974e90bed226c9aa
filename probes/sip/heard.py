"""What the far end really sent, read from the text of received SIP messages.

pjsua2 reports some outcomes with status codes it makes up locally (406 "SDP
offer/answer incomplete" after a 2xx without SDP, 487 when it gives up on a
redirect). The worker hands every received message of a call to :class:`Heard`,
which keeps the facts the result must report: the real final response, the
highest provisional answer, a redirect's Contact, the SDP answer's codecs and
media direction, and a BYE from the far end with its Reason header (RFC 3326).

Messages come from peers we do not trust: anything that does not parse is
ignored, never raised.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from probes.sip.message import SipMessage, SipParseError, contact_uri

MAX_TEXT_CHARS = 200
"""Longest header value kept (a Reason or Contact from a hostile peer)."""


def parse_message(text: str) -> SipMessage | None:
    """The message as pjsua2 handed it over; ``None`` if it is not SIP."""
    try:
        return SipMessage.parse(text.encode("utf-8", "replace"))
    except SipParseError:
        return None


def _text(value: str | None) -> str | None:
    """A header value cut to a sane length."""
    return None if value is None else value[:MAX_TEXT_CHARS]


@dataclass(kw_only=True)
class Heard:
    """Facts gathered from one call's received messages (times are monotonic seconds)."""

    provisional: int | None = None
    final_status: int | None = None
    final_reason: str | None = None
    answer_sdp: str | None = None
    redirect_to: str | None = None
    bye_at: float | None = None
    bye_reason: str | None = None
    redirects: list[str] = field(default_factory=list)

    def receive(self, text: str, at: float) -> None:
        """Take in one received message of the call."""
        message = parse_message(text)
        if message is None:
            return
        if message.is_request:
            if message.method == "BYE" and self.bye_at is None:
                self.bye_at, self.bye_reason = at, _text(message.header("reason"))
        elif message.cseq_method == "INVITE":
            self._response(message)

    def _response(self, message: SipMessage) -> None:
        if message.status < 200:
            self.provisional = max(self.provisional or 0, message.status)
            return
        self.final_status, self.final_reason = message.status, message.reason
        self.answer_sdp = message.body.decode("utf-8", "replace") if message.carries_sdp else None
        if 300 <= message.status < 400:
            self.redirect_to = _text(contact_uri(message.header("contact") or "")) or None
