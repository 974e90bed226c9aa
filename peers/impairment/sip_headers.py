"""Header rewrites a relay needs: Request-URI, Contact URIs, and its own Via on top."""

from __future__ import annotations

import hashlib
import re

from probes.sip.message import SipMessage, contact_uri, split_values

Address = tuple[str, int]

_URI = re.compile(
    r"^(?P<scheme>sips?:)(?P<user>[^@>]*@)?(?P<host>\[[^\]]+\]|[^:;?>]+)(?::\d+)?(?P<rest>.*)$",
    re.IGNORECASE,
)
BRANCH_PREFIX = "z9hG4bK-cpr-"


def replace_hostport(uri: str, address: Address) -> str:
    """The same SIP URI (user, parameters kept) at another host:port."""
    match = _URI.match(uri.strip())
    if match is None:
        return uri
    user = match.group("user") or ""
    return f"{match.group('scheme')}{user}{address[0]}:{address[1]}{match.group('rest')}"


def rewrite_contacts(message: SipMessage, address: Address) -> tuple[SipMessage, str | None]:
    """Point every Contact at `address`; also return the first original Contact URI."""
    contacts = [part for line in message.header_values("contact") for part in split_values(line)]
    uris = [contact_uri(contact) for contact in contacts]
    if not any(uris):
        return message, None
    rewritten = [
        contact.replace(uri, replace_hostport(uri, address), 1) if uri else contact
        for contact, uri in zip(contacts, uris, strict=True)
    ]
    return message.with_header("Contact", rewritten), next(uri for uri in uris if uri)


def request_uri(message: SipMessage) -> str:
    """The Request-URI of a request."""
    return message.start_line.split()[1]


def with_request_uri(message: SipMessage, uri: str) -> SipMessage:
    """The request with another Request-URI."""
    method, _, version = message.start_line.split()
    return SipMessage(
        start_line=f"{method} {uri} {version}", headers=message.headers, body=message.body
    )


def add_via(message: SipMessage, address: Address) -> SipMessage:
    """Push the relay's Via, so that responses come back through it (RFC 3261 section 16.6).

    The branch is derived from the previous top Via, as a stateless proxy does
    (section 16.11), so a CANCEL or a retransmission gets the same branch.
    """
    previous = split_values(message.header("via") or message.call_id)[0]
    digest = hashlib.sha256(previous.encode()).hexdigest()[:20]
    via = f"SIP/2.0/UDP {address[0]}:{address[1]};branch={BRANCH_PREFIX}{digest}"
    return message.with_header_first("Via", via)


def strip_via(message: SipMessage, address: Address) -> SipMessage:
    """Pop the top Via if it is the relay's own (a response on its way back)."""
    lines = message.header_values("via")
    values = split_values(lines[0]) if lines else []
    if not values or not _is_ours(values[0], address):
        return message
    remaining = [", ".join(values[1:])] if values[1:] else []
    return message.with_header("Via", [*remaining, *lines[1:]])


def _is_ours(via: str, address: Address) -> bool:
    """Whether a Via value carries the relay's sent-by and branch."""
    fields = via.split(";")
    sent_by = fields[0].split()[-1]
    return sent_by == f"{address[0]}:{address[1]}" and f"branch={BRANCH_PREFIX}" in via
