"""The impairment relay: SIP and RTP through one process, RTP impaired on the way.

How the whole dialog is kept on the relay (no Record-Route, which needs the
UAS to echo it; SIPp's built-in `uas` scenario does not):

- The relay pushes its own Via onto every request and pops it from every
  response, like a stateless proxy, so responses return through it whatever
  the UAS does with `rport`.
- Every Contact, in both directions, is rewritten to the relay's SIP address,
  so each party sends its in-dialog requests (ACK, BYE, re-INVITE, UPDATE)
  to the relay. The relay remembers each side's real Contact per Call-ID and
  puts it back as the Request-URI when forwarding such a request.
- Datagrams from the target address go to the call's client (the address its
  first request came from, else the client that last sent a request); all
  other datagrams come from the client side and go to the target.
- A call (two RTP/RTCP port pairs) is allocated on the first INVITE or SDP
  of a Call-ID; SDP in any message (offer or answer, INVITE, 18x, 200, ACK,
  UPDATE) is pointed at the relay's ports facing the receiver.
  A call ends when its BYE is answered, when its INVITE is refused before any
  2xx, or after `call_idle_timeout_s` without SIP or media.
"""

from __future__ import annotations

import asyncio
import logging

from peers.impairment.call import Call
from peers.impairment.config import RelayConfig
from peers.impairment.dialog import next_request_uri, opens_call
from peers.impairment.media_ports import PortBinder
from peers.impairment.port_pool import PortPool, PortsExhausted
from peers.impairment.sip_headers import Address
from peers.impairment.sip_translate import Translation, translate
from peers.impairment.stats import CallStats, RelayStats
from peers.impairment.stats_file import write_atomically
from peers.impairment.udp import UdpSocket
from probes.sip.message import SipMessage, SipParseError

logger = logging.getLogger(__name__)


class ImpairmentRelay:
    """Usable in-process: `await start()`, `stats()` at any time, `await stop()`."""

    def __init__(self, config: RelayConfig) -> None:
        self.config = config
        self._target: Address = (config.target_host, config.target_port)
        self._calls: dict[str, Call] = {}
        self._finished: list[CallStats] = []
        self._ordinal = 0
        self._sip_messages = 0
        self._last_client: Address | None = None
        self._sip: UdpSocket | None = None
        self._bound: Address | None = None  # kept after stop(), for stats()
        self._binder = PortBinder(config.listen_host, PortPool(*config.rtp_port_range))
        self._housekeeping: asyncio.Task[None] | None = None

    @property
    def sip_address(self) -> Address:
        """Where clients send SIP (the bound port, when the config asked for port 0)."""
        if self._bound is None:
            raise RuntimeError("relay not started")
        return self._bound

    @property
    def _sip_socket(self) -> UdpSocket:
        """The SIP socket, once started."""
        if self._sip is None:
            raise RuntimeError("relay not started")
        return self._sip

    async def start(self) -> None:
        """Bind the SIP socket and start the stats/idle-call housekeeping."""
        self._sip = UdpSocket((self.config.listen_host, self.config.listen_port), self._on_sip)
        self._bound = self._sip.address
        self._housekeeping = asyncio.create_task(self._housekeep())
        self.write_stats()
        logger.info("relay started", extra={"sip": self.sip_address, "target": self._target})

    async def stop(self) -> RelayStats:
        """End every call (delayed packets are sent at once), close, write and return the stats."""
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            await asyncio.gather(self._housekeeping, return_exceptions=True)
        for call in list(self._calls.values()):
            self._end(call, reason="relay stopped")
        stats = self.stats()
        self.write_stats()
        if self._sip is not None:
            self._sip.close()
            self._sip = None
        logger.info("relay stopped", extra={"calls": len(stats.calls)})
        return stats

    def stats(self) -> RelayStats:
        """A frozen snapshot of every call so far and the per-direction totals."""
        live = [call.snapshot() for call in self._calls.values()]
        calls = sorted([*self._finished, *live], key=lambda call: call.ordinal)
        host, port = self._bound or (self.config.listen_host, self.config.listen_port)
        return RelayStats.of_calls(
            sip_address=f"{host}:{port}",
            target_address=f"{self._target[0]}:{self._target[1]}",
            sip_messages=self._sip_messages,
            calls=calls,
        )

    def write_stats(self) -> None:
        """Rewrite the stats file, if one is configured (atomically)."""
        if self.config.stats_path is None:
            return
        try:
            write_atomically(self.config.stats_path, self.stats().to_json())
        except OSError as error:
            logger.warning("stats not written", extra={"error": str(error)})

    def _on_sip(self, datagram: bytes, source: Address) -> None:
        """Relay one SIP datagram (see the module docstring for the routing)."""
        try:
            message = SipMessage.parse(datagram)
        except SipParseError:
            logger.debug("not SIP, dropped", extra={"source": source, "size": len(datagram)})
            return
        from_target = source == self._target
        if message.is_request and not from_target:
            self._last_client = source
        call = self._calls.get(message.call_id) or self._open_call(message, source, from_target)
        if call is None and opens_call(message):
            return  # no ports (logged) or no client: forwarding would let media bypass us
        destination = self._destination(call, from_target)
        if destination is None:
            logger.warning("no client known yet, dropped", extra={"start_line": message.start_line})
            return
        self._forward(message, call, from_target, destination)

    def _forward(
        self, message: SipMessage, call: Call | None, from_target: bool, destination: Address
    ) -> None:
        """Translate, send, then learn from the message and maybe end the call."""
        translation = self._translate(message, call, from_target)
        self._sip_socket.send(translation.message.to_bytes(), destination)
        self._sip_messages += 1
        if call is not None:
            self._learn(call, translation, from_target)
            if call.dialog.ends_with(message):
                self._end(call, reason=message.start_line)

    def _translate(self, message: SipMessage, call: Call | None, from_target: bool) -> Translation:
        """The message as the receiver must see it."""
        uri = None
        if message.is_request:
            peer = call.dialog.peer_contact(from_target=from_target) if call else None
            uri = next_request_uri(
                message, from_target=from_target, peer_contact=peer, target=self._target
            )
        media_port = call.port_for_receiver(from_target=from_target) if call else None
        return translate(message, relay=self.sip_address, request_uri=uri, media_port=media_port)

    def _open_call(self, message: SipMessage, source: Address, from_target: bool) -> Call | None:
        """A new call for the first INVITE or SDP of a Call-ID; None if not that, or no ports."""
        client = self._last_client if from_target else source
        if not opens_call(message) or client is None:
            return None
        try:
            call = Call(
                call_id=message.call_id,
                ordinal=self._ordinal + 1,
                client=client,
                config=self.config,
                binder=self._binder,
            )
        except PortsExhausted:
            logger.error("no RTP ports left, message dropped", extra={"call_id": message.call_id})
            return None
        self._ordinal += 1
        self._calls[call.call_id] = call
        logger.info("call started", extra={"call_id": call.call_id, "ordinal": call.ordinal})
        return call

    def _destination(self, call: Call | None, from_target: bool) -> Address | None:
        """Target for the client side; the call's client (or the last client) for the target."""
        if not from_target:
            return self._target
        return call.dialog.client if call is not None else self._last_client

    def _learn(self, call: Call, translation: Translation, from_target: bool) -> None:
        """Remember the sender's real Contact and media address."""
        call.touch()
        call.dialog.learn_contact(translation.contact, from_target=from_target)
        if translation.media is not None:
            call.learn_media(translation.media, from_target=from_target)

    def _end(self, call: Call, *, reason: str) -> None:
        """Release the call's ports, keep its final counts, rewrite the stats file."""
        del self._calls[call.call_id]
        final = call.close()
        self._finished.append(final)
        logger.info(
            "call ended",
            extra={
                "call_id": call.call_id,
                "reason": reason,
                "to_target_dropped": final.to_target.rtp.dropped,
                "to_client_dropped": final.to_client.rtp.dropped,
            },
        )
        self.write_stats()

    async def _housekeep(self) -> None:
        """Every `stats_interval_s`: end idle calls, rewrite the stats file."""
        while True:
            await asyncio.sleep(self.config.stats_interval_s)
            deadline = asyncio.get_running_loop().time() - self.config.call_idle_timeout_s
            for call in [c for c in self._calls.values() if c.last_activity < deadline]:
                self._end(call, reason="idle")
            self.write_stats()


async def run_relay(config: RelayConfig, stop: asyncio.Event) -> RelayStats:
    """Run a relay until `stop` is set; return its final stats."""
    relay = ImpairmentRelay(config)
    await relay.start()
    try:
        await stop.wait()
    finally:
        stats = await relay.stop()
    return stats
