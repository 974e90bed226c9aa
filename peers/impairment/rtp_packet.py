"""The two facts the relay reads from a media datagram (RFC 3550, RFC 5761)."""

from __future__ import annotations

_RTP_VERSION = 2
_RTCP_TYPES = range(192, 224)  # RTCP packet types that RFC 5761 keeps apart from RTP


def is_rtcp(datagram: bytes) -> bool:
    """RTCP, told apart from RTP by its packet type (needed when RTCP is muxed on the RTP port)."""
    return len(datagram) >= 2 and datagram[0] >> 6 == _RTP_VERSION and datagram[1] in _RTCP_TYPES


def rtp_ssrc(datagram: bytes) -> int | None:
    """The SSRC of an RTP packet; None if the datagram is not RTP."""
    if len(datagram) < 12 or datagram[0] >> 6 != _RTP_VERSION or is_rtcp(datagram):
        return None
    return int.from_bytes(datagram[8:12], "big")
