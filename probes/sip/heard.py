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

import re
from dataclasses import dataclass, field

MAX_TEXT_CHARS = 200
"""Longest header value kept (a Reason or Contact from a hostile peer)."""

STATIC_PAYLOADS = {
    "0": "PCMU/8000",
    "3": "GSM/8000",
    "4": "G723/8000",
    "5": "DVI4/8000",
    "6": "DVI4/16000",
    "7": "LPC/8000",
    "8": "PCMA/8000",
    "9": "G722/8000",
    "10": "L16/44100/2",
    "11": "L16/44100",
    "12": "QCELP/8000",
    "13": "CN/8000",
    "14": "MPA/90000",
    "15": "G728/8000",
    "16": "DVI4/11025",
    "17": "DVI4/22050",
    "18": "G729/8000",
}
"""RFC 3551 table 4: payload types an SDP may use without an rtpmap line."""

DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")

_STATUS = re.compile(r"SIP/2\.0 ([1-6]\d\d)(?: (.*))?")
_COMPACT = {"m": "contact", "c": "content-type", "l": "content-length"}


@dataclass(frozen=True, slots=True)
class Message:
    """A received message: its status (0 for a request), method, headers and body."""

    status: int
    reason: str
    method: str
    headers: dict[str, str]
    body: str

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (lower case), cut to a sane length."""
        value = self.headers.get(name)
        return None if value is None else value[:MAX_TEXT_CHARS]


def parse_message(text: str) -> Message | None:
    """Start line, first value of each header, body; ``None`` if it is not SIP."""
    head, _, body = text.replace("\r\n", "\n").partition("\n\n")
    lines = head.split("\n")
    if not lines or not lines[0]:
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            key = name.strip().lower()
            headers.setdefault(_COMPACT.get(key, key), value.strip())
    cseq = headers.get("cseq", "").split()
    method = cseq[1].upper() if len(cseq) == 2 else ""
    match = _STATUS.fullmatch(lines[0].strip())
    if match is not None:
        reason = (match.group(2) or "")[:MAX_TEXT_CHARS]
        return Message(int(match.group(1)), reason, method, headers, body)
    request = lines[0].split(" ", 1)[0].upper()
    return Message(0, "", request, headers, body) if request.isalpha() else None


def sdp_codecs(sdp: str) -> tuple[str, ...]:
    """Codecs of the first audio section, as ``NAME/RATE``, telephone-event left out."""
    formats: list[str] = []
    rtpmap: dict[str, str] = {}
    in_audio = False
    for line in sdp.splitlines():
        if line.startswith("m="):
            if in_audio:
                break
            parts = line[2:].split()
            in_audio = bool(parts) and parts[0] == "audio"
            formats = parts[3:] if in_audio else []
        elif in_audio and line.startswith("a=rtpmap:"):
            pt, _, name = line[len("a=rtpmap:") :].partition(" ")
            rtpmap[pt] = name.strip()
    names = (rtpmap.get(pt) or STATIC_PAYLOADS.get(pt, f"payload {pt}") for pt in formats)
    return tuple(n for n in names if not n.lower().startswith("telephone-event"))


def sdp_direction(sdp: str) -> str:
    """The first audio section's direction (RFC 3264 section 5.1); session level applies
    when the section has none; ``sendrecv`` when neither says."""
    session = "sendrecv"
    media: str | None = None
    in_audio = seen_media = False
    for line in sdp.splitlines():
        if line.startswith("m="):
            if in_audio:
                break
            seen_media = True
            in_audio = line[2:].startswith("audio")
        elif line[2:] in DIRECTIONS and line.startswith("a="):
            if not seen_media:
                session = line[2:]
            elif in_audio:
                media = line[2:]
    return media or session


def is_sdp(message: Message) -> bool:
    """True when the message carries an SDP body."""
    kind = (message.header("content-type") or "").split(";")[0].strip().lower()
    return kind == "application/sdp" and bool(message.body.strip())


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
        if message.status == 0:
            if message.method == "BYE" and self.bye_at is None:
                self.bye_at, self.bye_reason = at, message.header("reason")
        elif message.method == "INVITE":
            self._response(message)

    def _response(self, message: Message) -> None:
        if message.status < 200:
            self.provisional = max(self.provisional or 0, message.status)
            return
        self.final_status, self.final_reason = message.status, message.reason
        self.answer_sdp = message.body if is_sdp(message) else None
        if 300 <= message.status < 400:
            contact = message.header("contact") or ""
            self.redirect_to = contact.strip().removeprefix("<").split(">")[0] or None
