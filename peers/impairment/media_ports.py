"""Binding a call's RTP/RTCP socket pairs on ports from the pool."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from peers.impairment.port_pool import PortPool, PortsExhausted
from peers.impairment.udp import UdpSocket

logger = logging.getLogger(__name__)

PairReceiver = Callable[[bytes, bool], None]  # (datagram, arrived on the RTCP port)


@dataclass(frozen=True, kw_only=True, slots=True)
class PortPair:
    """An RTP socket on an even port and its RTCP socket on the next one."""

    base: int
    rtp: UdpSocket
    rtcp: UdpSocket

    def pick(self, rtcp_port: bool) -> UdpSocket:
        """The RTCP socket if asked for, else the RTP one."""
        return self.rtcp if rtcp_port else self.rtp


class PortBinder:
    """Binds pairs from the pool, skipping ports that someone else holds."""

    def __init__(self, host: str, pool: PortPool) -> None:
        self._host = host
        self._pool = pool

    def bind(self, receive: PairReceiver) -> PortPair:
        """Bind the next free pair; PortsExhausted if none can be bound."""
        for _ in range(len(self._pool)):
            base = self._pool.acquire()
            try:
                return self._bind_at(base, receive)
            except OSError as error:
                self._pool.release(base)
                logger.info("rtp port busy", extra={"port": base, "error": str(error)})
        raise PortsExhausted("no bindable RTP port pair left in the range")

    def unbind(self, pair: PortPair) -> None:
        """Close both sockets and return the pair to the pool."""
        pair.rtp.close()
        pair.rtcp.close()
        self._pool.release(pair.base)

    def _bind_at(self, base: int, receive: PairReceiver) -> PortPair:
        """Both sockets or neither."""
        rtp = UdpSocket((self._host, base), lambda datagram, _source: receive(datagram, False))
        try:
            rtcp = UdpSocket(
                (self._host, base + 1), lambda datagram, _source: receive(datagram, True)
            )
        except OSError:
            rtp.close()
            raise
        return PortPair(base=base, rtp=rtp, rtcp=rtcp)
