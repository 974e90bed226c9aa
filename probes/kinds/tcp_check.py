"""The TCP check: connect to ``host:port`` and measure the handshake time."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import time
from dataclasses import replace

from probes.result import CallResult, Outcome


class InvalidTarget(ValueError):
    """Not a ``host:port`` target."""


def parse_hostport(target: str) -> tuple[str, int]:
    """Split ``host:port`` or ``[v6]:port``; raises :class:`InvalidTarget` with the reason."""
    text = target.strip()
    if text.startswith("["):
        host, closed, rest = text[1:].partition("]")
        port_text = rest.removeprefix(":") if closed and rest.startswith(":") else ""
        if not closed:
            raise InvalidTarget(f"{target!r}: unterminated IPv6 address")
    else:
        host, _, port_text = text.rpartition(":")
        if ":" in host:
            raise InvalidTarget(f"{target!r}: write IPv6 addresses as [address]:port")
    if not host or any(c.isspace() or c in "/@" for c in host):
        raise InvalidTarget(f"{target!r}: expected host:port")
    if text.startswith("["):
        try:
            ipaddress.IPv6Address(host)
        except ValueError as exc:
            raise InvalidTarget(f"{target!r}: {host!r} is not an IPv6 address") from exc
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise InvalidTarget(f"{target!r}: port must be a number in 1-65535")
    return host, int(port_text)


async def check_tcp(host: str, port: int, base: CallResult) -> CallResult:
    """Open and close one connection; ``latency_ms`` is the connect time (DNS excluded)."""
    loop = asyncio.get_running_loop()
    address = (await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM))[0][4]
    started = time.perf_counter()
    _, writer = await asyncio.open_connection(str(address[0]), port)
    latency_ms = round((time.perf_counter() - started) * 1000.0, 3)
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return replace(base, outcome=Outcome.OK, latency_ms=latency_ms)
