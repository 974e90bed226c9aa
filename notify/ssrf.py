"""The SSRF guard: notification targets must not reach the operator's own network.

A channel's URL or SMTP host is user input. Every address it resolves to is checked,
at configuration time and again at send time (a name can be re-pointed after it was
checked: DNS rebinding), and only public addresses pass unless the operator allow-lists
a network (``CALLPROBE_NOTIFY_ALLOW_NETWORKS``).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from urllib.parse import SplitResult, urlsplit

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""``(host, port)`` to the addresses the name has, as strings."""

ALLOW_SETTING = "CALLPROBE_NOTIFY_ALLOW_NETWORKS"
METADATA = frozenset(ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200"))
"""Cloud instance metadata services (AWS/GCP/Azure/OpenStack, AWS IPv6, Alibaba)."""
SHARED = IPv4Network("100.64.0.0/10")
NAT64 = IPv6Network("64:ff9b::/96")
DEFAULT_PORTS = {"http": 80, "https": 443, "smtp": 25, "smtps": 465}


class TargetRefused(ValueError):
    """A target the guard will not let a notification reach; the text says why."""


class TargetUnresolved(TargetRefused):
    """A host name with no address (now): an error at configuration, a retry at send."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Target:
    """A checked URL: where to connect, and the name to present (Host, SNI)."""

    scheme: str
    host: str
    port: int
    addresses: list[Address]


async def system_resolver(host: str, port: int) -> list[str]:
    """The running loop's ``getaddrinfo``: every address of ``host`` for TCP."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _embedded_v4(ip: Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, NAT64), if any."""
    if isinstance(ip, IPv4Address):
        return None
    if ip in NAT64:
        return IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.ipv4_mapped or ip.sixtofour


def _kind(ip: Address) -> str | None:
    """What kind of non-public address ``ip`` is (with its article), None if public."""
    embedded = _embedded_v4(ip)
    if embedded is not None:
        return _kind(embedded)
    kinds = (
        ("a cloud metadata", ip in METADATA),
        ("a loopback", ip.is_loopback),
        ("a link-local", ip.is_link_local),
        ("an unspecified", ip.is_unspecified),
        ("a multicast", ip.is_multicast),
        ("a shared (CGNAT)", isinstance(ip, IPv4Address) and ip in SHARED),
        ("a reserved", ip.is_reserved),
        ("a private", ip.is_private),
        ("a non-public", not ip.is_global),
    )
    return next((kind for kind, matches in kinds if matches), None)


def _literal(host: str) -> Address | None:
    try:
        return ip_address(host)
    except ValueError:
        return None


class Guard:
    """Refuses non-public addresses (loopback, link-local, private, ULA, unspecified,
    multicast, reserved, CGNAT, cloud metadata, and IPv6 forms of them) unless they lie
    in an allow-listed network."""

    def __init__(self, allow: Sequence[Network] = (), *, resolver: Resolver | None = None):
        self._allow = tuple(allow)
        self._resolver = resolver or system_resolver

    def allowed(self, ip: Address) -> bool:
        """Whether ``ip`` (or the IPv4 address it embeds) is in an allow-listed network."""
        candidates = (ip, _embedded_v4(ip))
        return any(c is not None and c in net for c in candidates for net in self._allow)

    def check_address(self, ip: Address, host: str | None = None) -> None:
        """Raise :class:`TargetRefused` unless ``ip`` is public or allow-listed."""
        kind = _kind(ip)
        if kind is None or self.allowed(ip):
            return
        where = f"{host} resolves to {ip}" if host and host != str(ip) else str(ip)
        raise TargetRefused(
            f"notification target {where}, {kind} address; allow it with {ALLOW_SETTING}"
        )

    async def resolve(self, host: str, port: int) -> list[Address]:
        """Every address of ``host``, each checked: one refused address refuses them all,
        so a resolver that answers a public and a private address cannot slip one in."""
        literal = _literal(host)
        if literal is not None:
            self.check_address(literal)
            return [literal]
        try:
            answers = await self._resolver(host, port)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise TargetUnresolved(
                f"notification target {host} does not resolve ({reason})"
            ) from exc
        addresses = list(dict.fromkeys(ip_address(answer) for answer in answers))
        if not addresses:
            raise TargetUnresolved(f"notification target {host} has no address")
        for ip in addresses:
            self.check_address(ip, host)
        return addresses

    async def check_url(self, url: str, schemes: Sequence[str] = ("https",)) -> Target:
        """Parse, resolve and check ``url``: its scheme must be one of ``schemes``, and
        it may carry no credentials. Plain ``http`` passes (when ``https`` does) only if
        every address it resolves to is allow-listed, e.g. a loopback receiver in tests:
        a notice and its signature must not cross a public network in clear text.
        Errors never quote the URL: its path may be a secret (Slack, Teams)."""
        parts = urlsplit(url)
        scheme, host = parts.scheme.lower(), parts.hostname
        insecure_ok = scheme == "http" and "https" in schemes
        if scheme not in schemes and not insecure_ok:
            wanted = " or ".join(schemes)
            raise TargetRefused(f"the URL's scheme is {scheme or 'missing'}; use {wanted}")
        if parts.username is not None or parts.password is not None:
            raise TargetRefused("credentials in the URL are not allowed")
        if not host:
            raise TargetRefused("the URL has no host")
        port = _port(parts)
        addresses = await self.resolve(host, port)
        if insecure_ok and not all(self.allowed(ip) for ip in addresses):
            raise TargetRefused(
                f"notification target {host} uses plain http, allowed only to addresses"
                f" in {ALLOW_SETTING}; use https"
            )
        return Target(scheme=scheme, host=host, port=port, addresses=addresses)


def _port(parts: SplitResult) -> int:
    """The URL's port, else its scheme's default one."""
    try:
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"the URL's port is not a valid port ({exc})") from exc
    if port is None and parts.scheme.lower() not in DEFAULT_PORTS:
        raise TargetRefused("the URL has no port")
    return port if port is not None else DEFAULT_PORTS[parts.scheme.lower()]
