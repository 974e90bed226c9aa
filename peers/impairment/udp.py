"""A bound, non-blocking UDP socket that the running event loop reads for us."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable

from peers.impairment.sip_headers import Address

logger = logging.getLogger(__name__)

Receiver = Callable[[bytes, Address], None]
_MAX_DATAGRAM = 65535


class UdpSocket:
    """Bound at construction (so its port is known at once), read through `loop.add_reader`."""

    def __init__(self, address: Address, on_datagram: Receiver) -> None:
        self._loop = asyncio.get_running_loop()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self._sock.bind(address)
        except OSError:
            self._sock.close()
            raise
        self._sock.setblocking(False)
        self._on_datagram = on_datagram
        self._loop.add_reader(self._sock.fileno(), self._drain)

    @property
    def address(self) -> Address:
        """The bound host and port."""
        host, port = self._sock.getsockname()
        return str(host), int(port)

    def send(self, datagram: bytes, destination: Address) -> bool:
        """Send without blocking; False (and a log line) if the kernel refused."""
        try:
            self._sock.sendto(datagram, destination)
        except OSError as error:
            logger.warning(
                "udp send failed", extra={"destination": destination, "error": str(error)}
            )
            return False
        return True

    def close(self) -> None:
        """Stop reading and release the port."""
        self._loop.remove_reader(self._sock.fileno())
        self._sock.close()

    def _drain(self) -> None:
        """Hand every queued datagram to the receiver."""
        while True:
            try:
                datagram, source = self._sock.recvfrom(_MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:  # e.g. ICMP port unreachable from an earlier send
                logger.debug("udp receive error", extra={"error": str(error)})
                continue
            self._on_datagram(datagram, (str(source[0]), int(source[1])))
