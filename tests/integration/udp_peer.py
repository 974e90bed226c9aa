"""A UDP server on loopback for tests: a thread answers each datagram it receives."""

from __future__ import annotations

import socket
import threading


class UdpPeer:
    """Binds a free loopback port and answers each datagram with :meth:`answer` until
    :meth:`close`. Subclasses set what ``answer`` reads before calling ``__init__``."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port: int = self.sock.getsockname()[1]
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def answer(self, data: bytes) -> bytes:
        raise NotImplementedError

    def _serve(self) -> None:
        while self.running:
            try:
                data, peer = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            self.sock.sendto(self.answer(data), peer)

    def close(self) -> None:
        self.running = False
        self.thread.join()
        self.sock.close()
