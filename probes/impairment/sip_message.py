"""A SIP message split into start line, headers and body (RFC 3261 section 7), and back.

Just enough parsing for a relay: header order and spelling are kept, folded
lines are unfolded, compact names (`i`, `m`, `v`, `l`, `c`) are understood.
Serializing always writes a Content-Length that matches the body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

_COMPACT = {"i": "call-id", "m": "contact", "v": "via", "l": "content-length", "c": "content-type"}
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_FOLD = re.compile(r"\r?\n[ \t]+")


class SipParseError(ValueError):
    """The datagram is not a SIP message."""


def canonical(name: str) -> str:
    """Lower-case long form of a header name."""
    lowered = name.strip().lower()
    return _COMPACT.get(lowered, lowered)


@dataclass(frozen=True, kw_only=True, slots=True)
class SipMessage:
    """A parsed SIP request or response."""

    start_line: str
    headers: tuple[tuple[str, str], ...]  # (name as written, value), in order
    body: bytes

    @classmethod
    def parse(cls, data: bytes) -> SipMessage:
        """Split a datagram; the body is cut at Content-Length (RFC 3261 section 18.3)."""
        match = _HEAD_END.search(data)
        head, body = (data[: match.start()], data[match.end() :]) if match else (data, b"")
        lines = _FOLD.sub(" ", head.decode("utf-8", "replace")).splitlines()
        if not lines or not _valid_start_line(lines[0]):
            raise SipParseError("no SIP start line")
        message = cls(start_line=lines[0], headers=_parse_headers(lines[1:]), body=body)
        length = message.header("content-length")
        if length is not None and length.strip().isdigit():
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
        return not self.start_line.startswith("SIP/2.0")

    @property
    def method(self) -> str:
        """The method of a request ("" for a response)."""
        return self.start_line.split()[0].upper() if self.is_request else ""

    @property
    def status(self) -> int:
        """The status code of a response (0 for a request)."""
        return 0 if self.is_request else int(self.start_line.split()[1])

    @property
    def cseq_method(self) -> str:
        """The method named in CSeq: what a response answers."""
        return (self.header("cseq") or " ").split()[-1].upper()

    @property
    def call_id(self) -> str:
        """The Call-ID ("" if missing)."""
        return (self.header("call-id") or "").strip()

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


def _parse_headers(lines: list[str]) -> tuple[tuple[str, str], ...]:
    """`Name: value` lines into pairs; anything else is not SIP."""
    pairs = [line.partition(":") for line in lines if line.strip()]
    if any(not colon or not name.strip() for name, colon, _ in pairs):
        raise SipParseError("malformed header line")
    return tuple((name.strip(), value.strip()) for name, _, value in pairs)


def _valid_start_line(line: str) -> bool:
    """`METHOD uri SIP/2.0` or `SIP/2.0 code reason`."""
    parts = line.split()
    if parts[:1] == ["SIP/2.0"]:
        return len(parts) >= 2 and parts[1].isdigit()
    return len(parts) == 3 and parts[2] == "SIP/2.0"
