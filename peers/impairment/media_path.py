"""One direction of one call's media: received on one side, impaired, sent out of the other."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from peers.impairment.config import Impairment
from peers.impairment.delay_line import DelayLine
from peers.impairment.impairer import Impairer
from peers.impairment.rtp_packet import is_rtcp, rtp_ssrc
from peers.impairment.sip_headers import Address
from peers.impairment.stats import DirectionStats, StreamCounters
from peers.impairment.udp import UdpSocket
from probes.sip.sdp import MediaEndpoint


@dataclass(frozen=True, kw_only=True, slots=True)
class _Stream:
    """An impairer and the delay line that keeps its plan."""

    impairer: Impairer
    line: DelayLine


class MediaPath:
    """RTP and RTCP of one direction; `destination` comes from the receiver's SDP."""

    def __init__(self, *, rtp: Impairment, rtcp: Impairment, seed: str) -> None:
        self._loop = asyncio.get_running_loop()
        self._rtp = _Stream(impairer=Impairer(rtp, f"{seed}:rtp"), line=DelayLine())
        self._rtcp = _Stream(impairer=Impairer(rtcp, f"{seed}:rtcp"), line=DelayLine())
        self.destination: MediaEndpoint | None = None

    def forward(self, datagram: bytes, *, out: UdpSocket, rtcp_port: bool) -> None:
        """Impair and schedule one datagram (RTCP muxed on the RTP port counts as RTCP)."""
        rtcp = rtcp_port or is_rtcp(datagram)
        stream = self._rtcp if rtcp else self._rtp
        destination = self._destination(rtcp_port)
        if destination is None:
            stream.impairer.count_unroutable()
            return
        plan = stream.impairer.admit(self._loop.time(), None if rtcp else rtp_ssrc(datagram))
        if plan is not None:
            counters = stream.impairer.counters
            stream.line.submit(
                plan.send_at, lambda: _send(counters, out, datagram, destination, plan.copies)
            )

    def flush(self) -> None:
        """Send whatever is still delayed, now."""
        self._rtp.line.flush()
        self._rtcp.line.flush()

    def snapshot(self) -> DirectionStats:
        """Frozen counts of both streams."""
        return DirectionStats(
            rtp=self._rtp.impairer.counters.snapshot(), rtcp=self._rtcp.impairer.counters.snapshot()
        )

    def _destination(self, rtcp_port: bool) -> Address | None:
        """The receiver's RTP or RTCP address, once its SDP has been seen."""
        media = self.destination
        if media is None:
            return None
        return (media.rtcp_host, media.rtcp_port) if rtcp_port else (media.host, media.rtp_port)


def _send(
    counters: StreamCounters, out: UdpSocket, datagram: bytes, destination: Address, copies: int
) -> None:
    """Send the packet (and its duplicate); count it forwarded if the original left."""
    sent = [out.send(datagram, destination) for _ in range(copies)]
    counters.forwarded += sent[0]
