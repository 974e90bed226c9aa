"""Point the first audio stream of an SDP body at the relay, and say where it pointed before.

Only the first `m=audio` section with a non-zero port is relayed. Its
connection address is its own `c=` line, or the session-level one; both are
rewritten, so another media section that relies on the session-level `c=`
(video, say) would be pointed at the relay too and lost: callprobe's calls
are audio only. RTCP is on RTP port + 1 unless an `a=rtcp:` attribute
(RFC 3605) says otherwise; that attribute is rewritten to the relay's RTCP
port. The `o=` line is left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_RTCP_ATTR = re.compile(r"^a=rtcp:(\d+)(?:\s+IN\s+IP[46]\s+(\S+))?\s*$")


@dataclass(frozen=True, kw_only=True, slots=True)
class MediaEndpoint:
    """Where one party receives RTP and RTCP."""

    host: str
    rtp_port: int
    rtcp_host: str
    rtcp_port: int


@dataclass(frozen=True, kw_only=True, slots=True)
class SdpRewrite:
    """The rewritten body and the endpoint it used to announce."""

    body: str
    original: MediaEndpoint


@dataclass(frozen=True, kw_only=True, slots=True)
class _AudioSection:
    """Line indexes of the relayed audio section inside the SDP."""

    m_line: int
    end: int  # index of the next m= line, or len(lines)


def rewrite_sdp(body: str, *, host: str, rtp_port: int) -> SdpRewrite | None:
    """Announce host:rtp_port (RTCP on rtp_port + 1) instead; None if there is no audio."""
    newline = "\r\n" if "\r\n" in body else "\n"
    lines = body.split(newline)
    section = _find_audio(lines)
    if section is None:
        return None
    original = _original_endpoint(lines, section)
    if original is None:
        return None
    scope = set(range(_first_m(lines))) | set(range(section.m_line, section.end))
    rewritten = [
        _rewrite_line(line, index in scope, index == section.m_line, host=host, rtp_port=rtp_port)
        for index, line in enumerate(lines)
    ]
    return SdpRewrite(body=newline.join(rewritten), original=original)


def _find_audio(lines: list[str]) -> _AudioSection | None:
    """The first m=audio line with a non-zero port, and where its section ends."""
    m_lines = [i for i, line in enumerate(lines) if line.startswith("m=")]
    for position, index in enumerate(m_lines):
        fields = lines[index][2:].split()
        if fields[:1] == ["audio"] and len(fields) > 1 and _port(fields[1]) != 0:
            end = m_lines[position + 1] if position + 1 < len(m_lines) else len(lines)
            return _AudioSection(m_line=index, end=end)
    return None


def _original_endpoint(lines: list[str], section: _AudioSection) -> MediaEndpoint | None:
    """Media-level c= wins over session-level c=; a=rtcp: wins over port + 1."""
    session = [line for line in lines[: _first_m(lines)] if line.startswith("c=")]
    media = [line for line in lines[section.m_line : section.end] if line.startswith("c=")]
    connections = [*media, *session]
    if not connections:
        return None
    host = connections[0].split()[-1].split("/", maxsplit=1)[0]
    rtp_port = _port(lines[section.m_line][2:].split()[1])
    rtcp_port, rtcp_host = rtp_port + 1, host
    for line in lines[section.m_line : section.end]:
        match = _RTCP_ATTR.match(line)
        if match:
            rtcp_port, rtcp_host = int(match.group(1)), match.group(2) or host
    return MediaEndpoint(host=host, rtp_port=rtp_port, rtcp_host=rtcp_host, rtcp_port=rtcp_port)


def _rewrite_line(line: str, in_scope: bool, is_m_line: bool, *, host: str, rtp_port: int) -> str:
    """Rewrite c= and a=rtcp: lines in scope (session level or audio), and the audio m= line."""
    if is_m_line:
        fields = line.split(" ")
        fields[1] = re.sub(r"^\d+", str(rtp_port), fields[1])
        return " ".join(fields)
    if in_scope and line.startswith("c="):
        return f"c=IN IP4 {host}"
    if in_scope and _RTCP_ATTR.match(line):
        suffix = f" IN IP4 {host}" if " IN " in line else ""
        return f"a=rtcp:{rtp_port + 1}{suffix}"
    return line


def _first_m(lines: list[str]) -> int:
    """Index of the first m= line (the end of the session-level part)."""
    return next((i for i, line in enumerate(lines) if line.startswith("m=")), len(lines))


def _port(field: str) -> int:
    """The port of an m= line's port field ("49170" or "49170/2"); 0 if malformed."""
    head = field.split("/", maxsplit=1)[0]
    return int(head) if head.isdigit() else 0
