"""A UDP SIP registrar on loopback for tests: challenges a REGISTER without
credentials with a Digest realm, answers one with credentials as told, and keeps
every request it received. With ``hold`` it answers only once that event is set."""

from __future__ import annotations

import threading

from tests.integration.udp_peer import UdpPeer


class Registrar(UdpPeer):
    """Challenges with ``realm``; answers authorised REGISTERs with ``final`` (e.g. "200 OK")."""

    def __init__(
        self, realm: str, final: str = "200 OK", hold: threading.Event | None = None
    ) -> None:
        self.realm, self.final, self.hold = realm, final, hold
        self.received: list[str] = []
        super().__init__()
        self.uri = f"sip:127.0.0.1:{self.port}"

    @property
    def authorised(self) -> list[str]:
        """The REGISTERs that carried credentials."""
        return [r for r in self.received if "\r\nauthorization:" in r.lower()]

    def answer(self, data: bytes) -> bytes:
        request = data.decode("utf-8", "replace")
        self.received.append(request)
        if self.hold is not None:
            self.hold.wait(10)
        return self._response(request).encode()

    def _response(self, request: str) -> str:
        head = request.split("\r\n\r\n", 1)[0].split("\r\n")[1:]
        copied = [
            line
            for line in head
            if line.split(":", 1)[0].strip().lower() in ("via", "from", "to", "call-id", "cseq")
        ]
        if "\r\nauthorization:" in request.lower():
            status, extra = self.final, []
        else:
            status = "401 Unauthorized"
            extra = [f'WWW-Authenticate: Digest realm="{self.realm}", nonce="n0nce", qop="auth"']
        return "\r\n".join([f"SIP/2.0 {status}", *copied, *extra, "Content-Length: 0", "", ""])
