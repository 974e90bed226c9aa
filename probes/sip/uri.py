"""SIP URI validation before anything is dialled (RFC 3261 section 19.1).

pjsua2 would reject a malformed URI only after the engine started a call; a probe
must instead refuse it up front with an error that says what is wrong.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

_HOST_RE = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9-]{1,63}$")
_USER_RE = re.compile(r"^[A-Za-z0-9\-_.!~*'()&=+$,;?/%#]+$")
TRANSPORTS = ("udp", "tcp")


class InvalidSipUri(ValueError):
    """The text is not a SIP URI we can dial."""


@dataclass(frozen=True, kw_only=True, slots=True)
class SipUri:
    """A parsed ``sip:`` URI; ``str()`` gives the form handed to pjsua2."""

    user: str | None
    host: str
    port: int | None
    transport: str

    def __str__(self) -> str:
        user = f"{self.user}@" if self.user else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = f":{self.port}" if self.port else ""
        suffix = ";transport=tcp" if self.transport == "tcp" else ""
        return f"sip:{user}{host}{port}{suffix}"


def parse_sip_uri(text: str, transport: str | None = None) -> SipUri:
    """Parse ``sip:user@host[:port][;params]``; ``transport`` overrides the URI's."""
    raw = text.strip()
    if not raw.lower().startswith("sip:"):
        raise InvalidSipUri(f"{text!r}: a SIP URI must start with 'sip:' (sips: is not supported)")
    body, _, params = raw[4:].partition(";")
    user, _, hostport = body.rpartition("@")
    host, port = _split_hostport(text, hostport)
    if user and not _USER_RE.match(user):
        raise InvalidSipUri(f"{text!r}: invalid characters in the user part {user!r}")
    chosen = (transport or _param(params, "transport") or "udp").lower()
    if chosen not in TRANSPORTS:
        raise InvalidSipUri(f"{text!r}: transport {chosen!r} is not one of {', '.join(TRANSPORTS)}")
    return SipUri(user=user or None, host=host, port=port, transport=chosen)


def _split_hostport(text: str, hostport: str) -> tuple[str, int | None]:
    if hostport.startswith("["):
        host, closed, rest = hostport[1:].partition("]")
        if not closed:
            raise InvalidSipUri(f"{text!r}: unterminated IPv6 reference {hostport!r}")
        port_text = rest[1:] if rest.startswith(":") else rest
    else:
        host, _, port_text = hostport.partition(":")
    if not host or not _valid_host(host):
        raise InvalidSipUri(f"{text!r}: missing or invalid host {host!r}")
    if not port_text:
        return host, None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise InvalidSipUri(f"{text!r}: port {port_text!r} is not a number in 1-65535")
    return host, int(port_text)


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return bool(_HOST_RE.match(host))
    return True


def _param(params: str, name: str) -> str | None:
    for item in params.split(";"):
        key, _, value = item.partition("=")
        if key.strip().lower() == name:
            return value.strip()
    return None
