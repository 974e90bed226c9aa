"""Minimal SIP client transactions over UDP or TCP, for the OPTIONS and REGISTER checks.

No maintained asyncio SIP client library exists (aiosip is abandoned; pjsua2 is
call-centric and lives in engine processes), so these checks build the few
requests they need and parse answers by hand, per RFC 3261: requests carry the
mandatory headers of section 8.1.1 and a magic-cookie branch (section 8.1.1.7),
and UDP requests are retransmitted by timer E (section 17.1.2.2). Answers come
from peers we do not trust: anything that does not parse is
:class:`MalformedResponse`, never a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from dataclasses import dataclass

from probes.sip.message import STATUS_LINE, SipMessage, SipParseError
from probes.sip.uri import SipUri

T1_S = 0.5
T2_S = 4.0
MAX_HEADER_BYTES = 65536
REQUIRED_HEADERS = ("via", "call-id", "cseq")
"""What a response needs to be matched to its transaction (RFC 3261 section 17.1.3)."""


class MalformedResponse(ValueError):
    """Bytes from the peer that are not a SIP response."""


class PeerClosed(ConnectionError):
    """The peer closed a TCP connection before the final response."""


def parse_response(data: bytes) -> SipMessage:
    """One response's start line and headers, by the shared parser, held to what a check
    needs (UTF-8, a status line, the transaction's headers); else :class:`MalformedResponse`."""
    head = data.split(b"\r\n\r\n", 1)[0]
    try:
        status_line = head.decode("utf-8").split("\r\n", 1)[0]
    except UnicodeDecodeError as exc:
        raise MalformedResponse("not UTF-8 text") from exc
    if STATUS_LINE.fullmatch(status_line) is None:
        raise MalformedResponse(f"bad status line {status_line[:80]!r}")
    try:
        response = SipMessage.parse(head)
    except SipParseError as exc:
        raise MalformedResponse(str(exc)) from exc
    for required in REQUIRED_HEADERS:
        if response.header(required) is None:
            raise MalformedResponse(f"no {required} header")
    return response


def new_branch() -> str:
    """An RFC 3261 branch: the magic cookie plus randomness."""
    return "z9hG4bK" + secrets.token_hex(8)


def new_token() -> str:
    """A random Call-ID or tag."""
    return secrets.token_hex(8)


@dataclass(frozen=True, kw_only=True, slots=True)
class Dialog:
    """What stays the same across the requests of one check (Call-ID, From, To)."""

    request_uri: str
    from_uri: str
    to_uri: str
    call_id: str
    from_tag: str


def build_request(
    method: str,
    dialog: Dialog,
    channel: Channel,
    *,
    cseq: int,
    branch: str,
    extra: tuple[str, ...] = (),
) -> bytes:
    """A request with RFC 3261 section 8.1.1's mandatory headers, no body."""
    host, port = channel.local
    sent_by = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    contact = f"sip:callprobe@{sent_by}" + (";transport=tcp" if channel.transport == "tcp" else "")
    lines = (
        f"{method} {dialog.request_uri} SIP/2.0",
        f"Via: SIP/2.0/{channel.transport.upper()} {sent_by};branch={branch};rport",
        "Max-Forwards: 70",
        f"From: <{dialog.from_uri}>;tag={dialog.from_tag}",
        f"To: <{dialog.to_uri}>",
        f"Call-ID: {dialog.call_id}",
        f"CSeq: {cseq} {method}",
        f"Contact: <{contact}>",
        "User-Agent: callprobe",
        *extra,
        "Content-Length: 0",
    )
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes | Exception] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: object) -> None:
        self.queue.put_nowait(data)

    def error_received(self, exc: Exception) -> None:
        self.queue.put_nowait(exc)  # ICMP port unreachable arrives as ConnectionRefusedError


class Channel:
    """A UDP or TCP path to one peer; open with :func:`open_channel`, then :meth:`close`."""

    def __init__(
        self,
        transport: str,
        local: tuple[str, int],
        udp: tuple[asyncio.DatagramTransport, _Datagrams] | None = None,
        tcp: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None,
    ) -> None:
        self.transport = transport
        self.local = local
        self._udp = udp
        self._tcp = tcp

    def send(self, message: bytes) -> None:
        """Send one request (UDP datagram or TCP write)."""
        if self._udp is not None:
            self._udp[0].sendto(message)
        elif self._tcp is not None:
            self._tcp[1].write(message)

    async def receive(self) -> bytes:
        """The next message from the peer; raises OSError if it refused or closed."""
        if self._udp is not None:
            item = await self._udp[1].queue.get()
            if isinstance(item, Exception):
                raise item
            return item
        assert self._tcp is not None
        reader = self._tcp[0]
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            raise PeerClosed("connection closed by the peer before a final response") from exc
        except asyncio.LimitOverrunError as exc:
            raise MalformedResponse("header block too large") from exc
        length = parse_response(head).header("content-length") or "0"
        if not length.isdigit() or int(length) > MAX_HEADER_BYTES:
            raise MalformedResponse(f"bad Content-Length {length[:20]!r}")
        with contextlib.suppress(asyncio.IncompleteReadError):
            await reader.readexactly(int(length))
        return head

    async def close(self) -> None:
        """Release the socket."""
        if self._udp is not None:
            self._udp[0].close()
        elif self._tcp is not None:
            self._tcp[1].close()
            with contextlib.suppress(OSError):
                await self._tcp[1].wait_closed()


async def open_channel(uri: SipUri) -> Channel:
    """Connect to the URI's host (port 5060 by default) over its transport."""
    loop = asyncio.get_running_loop()
    peer = (uri.host, uri.port or 5060)
    if uri.transport == "tcp":
        reader, writer = await asyncio.open_connection(*peer, limit=MAX_HEADER_BYTES)
        local = writer.get_extra_info("sockname")
        return Channel("tcp", (local[0], local[1]), tcp=(reader, writer))
    udp, protocol = await loop.create_datagram_endpoint(_Datagrams, remote_addr=peer)
    local = udp.get_extra_info("sockname")
    return Channel("udp", (local[0], local[1]), udp=(udp, protocol))


async def transact(channel: Channel, message: bytes, branch: str) -> tuple[SipMessage, float]:
    """Send a non-INVITE request; return its final response and the ms it took.

    1xx answers are skipped and responses to other transactions ignored. Over
    UDP the request is resent after 0.5, 1, 2, 4, 4 ... s (timer E, capped at
    T2) until an answer arrives or the caller's timeout cancels us.
    """
    started = time.perf_counter()
    channel.send(message)
    resender = (
        asyncio.create_task(_retransmit(channel, message)) if channel.transport == "udp" else None
    )
    try:
        while True:
            response = parse_response(await channel.receive())
            if response.branch == branch and response.status >= 200:
                return response, round((time.perf_counter() - started) * 1000.0, 3)
    finally:
        if resender is not None:
            resender.cancel()


async def _retransmit(channel: Channel, message: bytes) -> None:
    interval = T1_S
    while True:
        await asyncio.sleep(interval)
        channel.send(message)
        interval = min(interval * 2, T2_S)
