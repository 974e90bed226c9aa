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

from probes.sip.sdp import RTCP_ATTRIBUTE, MediaEndpoint, Sdp


@dataclass(frozen=True, kw_only=True, slots=True)
class SdpRewrite:
    """The rewritten body and the endpoint it used to announce."""

    body: str
    original: MediaEndpoint


def rewrite_sdp(body: str, *, host: str, rtp_port: int) -> SdpRewrite | None:
    """Announce host:rtp_port (RTCP on rtp_port + 1) instead; None if there is no audio."""
    sdp = Sdp.parse(body)
    audio = sdp.audio(active=True)
    original = sdp.endpoint(audio) if audio else None
    if audio is None or original is None:
        return None
    scope = set(range(sdp.session_end)) | set(range(audio.start, audio.end))
    rewritten = [
        _rewrite_line(line, index in scope, index == audio.start, host=host, rtp_port=rtp_port)
        for index, line in enumerate(sdp.lines)
    ]
    return SdpRewrite(body=sdp.newline.join(rewritten), original=original)


def _rewrite_line(line: str, in_scope: bool, is_m_line: bool, *, host: str, rtp_port: int) -> str:
    """Rewrite c= and a=rtcp: lines in scope (session level or audio), and the audio m= line."""
    if is_m_line:
        fields = line.split(" ")
        fields[1] = re.sub(r"^\d+", str(rtp_port), fields[1])
        return " ".join(fields)
    if in_scope and line.startswith("c="):
        return f"c=IN IP4 {host}"
    if in_scope and RTCP_ATTRIBUTE.match(line):
        suffix = f" IN IP4 {host}" if " IN " in line else ""
        return f"a=rtcp:{rtp_port + 1}{suffix}"
    return line
