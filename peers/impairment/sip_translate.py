"""What the relay does to one SIP message on its way through (pure).

Requests get the relay's Via on top (and lose it again in their responses), a
Request-URI for the next hop, every Contact pointed at the relay and, when
they carry SDP, the audio stream pointed at the relay's media ports facing
the receiver. The originals are handed back so the caller can remember them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from peers.impairment.sdp_rewrite import rewrite_sdp
from peers.impairment.sip_headers import (
    Address,
    add_via,
    rewrite_contacts,
    strip_via,
    with_request_uri,
)
from probes.sip.message import SipMessage
from probes.sip.sdp import MediaEndpoint


@dataclass(frozen=True, kw_only=True, slots=True)
class Translation:
    """The message to send on, and what the sender had announced."""

    message: SipMessage
    contact: str | None  # the sender's own Contact URI
    media: MediaEndpoint | None  # where the sender wants its audio


def translate(
    message: SipMessage, *, relay: Address, request_uri: str | None, media_port: int | None
) -> Translation:
    """Rewrite for the next hop; `media_port` is the relay's RTP port the receiver should use."""
    if message.is_request:
        message = add_via(message, relay)
        message = with_request_uri(message, request_uri) if request_uri else message
    else:
        message = strip_via(message, relay)
    message, contact = rewrite_contacts(message, relay)
    if media_port is None or not message.carries_sdp:
        return Translation(message=message, contact=contact, media=None)
    rewrite = rewrite_sdp(
        message.body.decode("utf-8", "replace"), host=relay[0], rtp_port=media_port
    )
    if rewrite is None:
        return Translation(message=message, contact=contact, media=None)
    body = rewrite.body.encode()
    return Translation(message=replace(message, body=body), contact=contact, media=rewrite.original)
