"""A SIP message split into start line, headers and body (RFC 3261 section 7), and back.

The one parser for everything that reads SIP: the OPTIONS/REGISTER checks, what
pjsua2 received during a call, and the impairment relay. Header order and
spelling are kept (the relay writes them back), folded lines are unfolded and
compact names (section 7.3.3) are understood. Messages come from peers we do
not trust: bytes that are not SIP raise :class:`SipParseError`, nothing else.
Serializing always writes a Content-Length that matches the body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

MAX_REASON_CHARS = 200
"""Longest reason phrase kept (a hostile peer's text ends up in results)."""

COMPACT_FORMS = {
    "c": "content-type",
    "e": "content-encoding",
    "f": "from",
    "i": "call-id",
    "k": "supported",
    "l": "content-length",
    "m": "contact",
    "s": "subject",
    "t": "to",
    "v": "via",
}
"""RFC 3261 section 7.3.3: compact header names and their long forms."""

STATUS_LINE = re.compile(r"SIP/2\.0 ([1-6][0-9][0-9])(?: (.*))?")
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_FOLD = re.compile(r"\r?\n[ \t]+")
_BRANCH = re.compile(r";\s*branch=([^;,\s]+)", re.IGNORECASE)


class SipParseError(ValueError):
    """The bytes are not a SIP message."""


def canonical(name: str) -> str:
    """Lower-case long form of a header name."""
    lowered = name.strip().lower()
    return COMPACT_FORMS.get(lowered, lowered)


@dataclass(frozen=True, kw_only=True, slots=True)
class SipMessage:
    """A parsed SIP request or response."""

    start_line: str
    headers: tuple[tuple[str, str], ...]  # (name as written, value), in order
    body: bytes

    @classmethod
    def parse(cls, data: bytes) -> SipMessage:
        """Split a message; the body is cut at Content-Length (RFC 3261 section 18.3)."""
        match = _HEAD_END.search(data)
        head, body = (data[: match.start()], data[match.end() :]) if match else (data, b"")
        start_line, *lines = _FOLD.sub(" ", head.decode("utf-8", "replace")).splitlines() or [""]
        if not _valid_start_line(start_line):
            raise SipParseError(f"bad start line {start_line[:80]!r}")
        message = cls(start_line=start_line, headers=_parse_headers(lines), body=body)
        length = (message.header("content-length") or "").strip()
        if length.isascii() and length.isdigit():
            return replace(message, body=body[: int(length)])
        return message

    def to_bytes(self) -> bytes:
        """Serialize, with Content-Length set to the body's length."""
        message = self.with_header("Content-Length", [str(len(self.body))])
        head = "\r\n".join([message.start_line, *(f"{n}: {v}" for n, v in message.headers)])
        return head.encode() + b"\r\n\r\n" + self.body

    @property
    def is_request(self) -> bool:
        """Requests start with a method, responses with the SIP version."""
        return STATUS_LINE.fullmatch(self.start_line) is None

    @property
    def method(self) -> str:
        """The method of a request ("" for a response)."""
        return self.start_line.split()[0].upper() if self.is_request else ""

    @property
    def status(self) -> int:
        """The status code of a response (0 for a request)."""
        match = STATUS_LINE.fullmatch(self.start_line)
        return int(match.group(1)) if match else 0

    @property
    def reason(self) -> str:
        """A response's reason phrase, printable characters only and bounded ("" for a request)."""
        match = STATUS_LINE.fullmatch(self.start_line)
        phrase = (match.group(2) if match else None) or ""
        return "".join(c for c in phrase if c.isprintable())[:MAX_REASON_CHARS]

    @property
    def cseq_method(self) -> str:
        """The method named in CSeq: what a response answers ("" if missing)."""
        fields = (self.header("cseq") or "").split()
        return fields[-1].upper() if fields else ""

    @property
    def call_id(self) -> str:
        """The Call-ID ("" if missing)."""
        return (self.header("call-id") or "").strip()

    @property
    def branch(self) -> str | None:
        """The branch parameter of the top Via (what matches a response to its request)."""
        match = _BRANCH.search(self.header("via") or "")
        return match.group(1) if match else None

    @property
    def carries_sdp(self) -> bool:
        """A non-empty application/sdp body."""
        media_type = (self.header("content-type") or "").split(";")[0].strip().lower()
        return media_type == "application/sdp" and bool(self.body.strip())

    def header(self, name: str) -> str | None:
        """The first value of a header, by any spelling or compact form."""
        return next(iter(self.header_values(name)), None)

    def header_values(self, name: str) -> list[str]:
        """Every header line of that name, in order."""
        wanted = canonical(name)
        return [value for key, value in self.headers if canonical(key) == wanted]

    def with_header(self, name: str, values: list[str]) -> SipMessage:
        """Replace all lines of a header by `values`, where the first was (else at the end)."""
        wanted = canonical(name)
        positions = [i for i, (key, _) in enumerate(self.headers) if canonical(key) == wanted]
        at = positions[0] if positions else len(self.headers)
        written = self.headers[at][0] if positions else name
        kept = [h for i, h in enumerate(self.headers) if i not in positions]
        new = [(written, value) for value in values]
        return replace(self, headers=(*kept[:at], *new, *kept[at:]))

    def with_header_first(self, name: str, value: str) -> SipMessage:
        """Insert one header line before all others of that name (e.g. a proxy's Via)."""
        return self.with_header(name, [value, *self.header_values(name)])


def split_values(value: str) -> list[str]:
    """Split a comma-separated header value, ignoring commas inside quotes or <...>."""
    parts: list[str] = []
    current: list[str] = []
    quoted = bracketed = False
    for char in value:
        if char == '"':
            quoted = not quoted
        elif char in "<>" and not quoted:
            bracketed = char == "<"
        elif char == "," and not (quoted or bracketed):
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    return [*parts, "".join(current).strip()]


def contact_uri(contact: str) -> str | None:
    """The URI of one Contact value (None for the wildcard `*`)."""
    if "<" in contact:
        return contact.partition("<")[2].partition(">")[0]
    uri = contact.split(";", maxsplit=1)[0].strip()
    return None if uri == "*" else uri


def _parse_headers(lines: list[str]) -> tuple[tuple[str, str], ...]:
    """`Name: value` lines into pairs; a line without a colon or a token name is not SIP."""
    pairs: list[tuple[str, str]] = []
    for line in filter(str.strip, lines):
        name, colon, value = line.partition(":")
        if not colon or len(name.split()) != 1:
            raise SipParseError(f"bad header line {line[:80]!r}")
        pairs.append((name.strip(), value.strip()))
    return tuple(pairs)


def _valid_start_line(line: str) -> bool:
    """`METHOD uri SIP/2.0` or `SIP/2.0 code reason`."""
    parts = line.split()
    return STATUS_LINE.fullmatch(line) is not None or (len(parts) == 3 and parts[2] == "SIP/2.0")
