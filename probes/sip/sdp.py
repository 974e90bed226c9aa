"""Reading an SDP body (RFC 4566): its session part, its media sections, and what a call
needs from the first audio one (codecs, media direction, where RTP and RTCP are received).

The one SDP reader, used for the answer pjsua2 received and by the impairment relay
(which rewrites the lines it finds here). Lines are split on the body's own newline
so a rewrite can join them back unchanged. SDP comes from peers we do not trust:
nothing here raises on a malformed body, it just finds less.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

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

RTCP_ATTRIBUTE = re.compile(r"^a=rtcp:(\d+)(?:\s+IN\s+IP[46]\s+(\S+))?\s*$")
"""RFC 3605: RTCP on another port (and maybe address) than RTP port + 1."""


@dataclass(frozen=True, kw_only=True, slots=True)
class MediaEndpoint:
    """Where one party receives RTP and RTCP."""

    host: str
    rtp_port: int
    rtcp_host: str
    rtcp_port: int


@dataclass(frozen=True, kw_only=True, slots=True)
class MediaSection:
    """One m= section: the index of its m= line, where it ends, and the m= line's fields."""

    start: int
    end: int  # index of the next m= line, or the number of lines
    media: str
    port: int  # 0 when the stream is rejected or the port is malformed
    formats: tuple[str, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class Sdp:
    """An SDP body as lines, with its media sections located."""

    lines: tuple[str, ...]
    newline: str
    sections: tuple[MediaSection, ...]

    @classmethod
    def parse(cls, text: str) -> Sdp:
        """Split on the body's newline (CRLF if it has one, else LF) and find the m= lines."""
        newline = "\r\n" if "\r\n" in text else "\n"
        lines = tuple(text.split(newline))
        starts = [i for i, line in enumerate(lines) if line.startswith("m=")]
        bounds = pairwise([*starts, len(lines)])
        sections = tuple(_section(lines, start, end) for start, end in bounds)
        return cls(lines=lines, newline=newline, sections=sections)

    @property
    def session_end(self) -> int:
        """Index of the first m= line: the session-level part is the lines before it."""
        return self.sections[0].start if self.sections else len(self.lines)

    def audio(self, *, active: bool = False) -> MediaSection | None:
        """The first audio section (with `active`, the first whose port is not 0)."""
        audio = (s for s in self.sections if s.media == "audio" and (s.port or not active))
        return next(audio, None)

    def section_lines(self, section: MediaSection) -> tuple[str, ...]:
        """The lines of one media section, its m= line first."""
        return self.lines[section.start : section.end]

    def endpoint(self, section: MediaSection) -> MediaEndpoint | None:
        """Where the section's stream is received: media-level c= wins over session-level c=,
        a=rtcp: over port + 1; None without a connection line."""
        session = [line for line in self.lines[: self.session_end] if line.startswith("c=")]
        media = [line for line in self.section_lines(section) if line.startswith("c=")]
        connections = [*media, *session]
        if not connections:
            return None
        host = connections[0].split()[-1].split("/", maxsplit=1)[0]
        rtcp_port, rtcp_host = section.port + 1, host
        for line in self.section_lines(section):
            match = RTCP_ATTRIBUTE.match(line)
            if match:
                rtcp_port, rtcp_host = int(match.group(1)), match.group(2) or host
        return MediaEndpoint(
            host=host, rtp_port=section.port, rtcp_host=rtcp_host, rtcp_port=rtcp_port
        )


def sdp_codecs(text: str) -> tuple[str, ...]:
    """Codecs of the first audio section, as ``NAME/RATE``, telephone-event left out."""
    sdp = Sdp.parse(text)
    audio = sdp.audio()
    if audio is None:
        return ()
    rtpmap: dict[str, str] = {}
    for line in sdp.section_lines(audio):
        if line.startswith("a=rtpmap:"):
            pt, _, name = line[len("a=rtpmap:") :].partition(" ")
            rtpmap[pt] = name.strip()
    names = (rtpmap.get(pt) or STATIC_PAYLOADS.get(pt, f"payload {pt}") for pt in audio.formats)
    return tuple(n for n in names if not n.lower().startswith("telephone-event"))


def sdp_direction(text: str) -> str:
    """The first audio section's direction (RFC 3264 section 5.1); session level applies
    when the section has none; ``sendrecv`` when neither says."""
    sdp = Sdp.parse(text)
    audio = sdp.audio()
    media = _direction(sdp.section_lines(audio)) if audio else None
    return media or _direction(sdp.lines[: sdp.session_end]) or "sendrecv"


def _direction(lines: tuple[str, ...]) -> str | None:
    """The last direction attribute among the lines, if any."""
    found = [line[2:] for line in lines if line.startswith("a=") and line[2:] in DIRECTIONS]
    return found[-1] if found else None


def _section(lines: tuple[str, ...], start: int, end: int) -> MediaSection:
    """The m= line's media, port and formats (`m=<media> <port>[/<count>] <proto> <fmt> ...`)."""
    fields = lines[start][2:].split()
    media = fields[0] if fields else ""
    port_field = fields[1].split("/", maxsplit=1)[0] if len(fields) > 1 else ""
    port = int(port_field) if port_field.isascii() and port_field.isdigit() else 0
    return MediaSection(start=start, end=end, media=media, port=port, formats=tuple(fields[3:]))
