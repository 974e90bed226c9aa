"""Who a request comes from, as rate limits count it.

The peer address, unless the peer is one of the configured trusted proxies: then
``X-Forwarded-For`` is read from the right, skipping trusted proxies, and the first
address that is not one is the client (anything left of it may be forged). IPv6
clients are counted per /64, the block one subscriber usually holds, so rotating
addresses inside it buys nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from starlette.requests import HTTPConnection

Networks = Sequence[IPv4Network | IPv6Network]


def client_key(connection: HTTPConnection, trusted: Networks) -> str:
    """The rate-limit key of the request's client."""
    peer = connection.client.host if connection.client else ""
    address = _parse(peer)
    if address is not None and _trusted(address, trusted):
        forwarded = ",".join(connection.headers.getlist("x-forwarded-for"))
        for hop in reversed([part.strip() for part in forwarded.split(",")]):
            hop_address = _parse(hop)
            if hop_address is None:
                break
            address = hop_address
            if not _trusted(address, trusted):
                break
    return _key(address) if address is not None else peer or "unknown"


def _parse(text: str) -> IPv4Address | IPv6Address | None:
    try:
        address = ip_address(text)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: IPv4Address | IPv6Address, trusted: Networks) -> bool:
    return any(address in network for network in trusted)


def _key(address: IPv4Address | IPv6Address) -> str:
    if isinstance(address, IPv6Address):
        return str(IPv6Network((address, 64), strict=False))
    return str(address)
