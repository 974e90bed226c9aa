"""Per-call SIP bookkeeping: who the client is, both Contacts, and when the call is over."""

from __future__ import annotations

from dataclasses import dataclass

from peers.impairment.sip_headers import Address, replace_hostport, request_uri
from probes.sip.message import SipMessage


def opens_call(message: SipMessage) -> bool:
    """An INVITE (even without SDP: late offer) or any SDP starts a call for its Call-ID."""
    return message.method == "INVITE" or message.carries_sdp


@dataclass(kw_only=True, slots=True)
class Dialog:
    """What the relay learned about one Call-ID from the messages it relayed."""

    client: Address  # where the caller's SIP messages come from
    client_contact: str | None = None  # the caller's real Contact URI
    target_contact: str | None = None  # the callee's real Contact URI
    established: bool = False  # a 2xx answered an INVITE

    def peer_contact(self, *, from_target: bool) -> str | None:
        """The real Contact URI of whoever receives a message from this side."""
        return self.client_contact if from_target else self.target_contact

    def learn_contact(self, contact: str | None, *, from_target: bool) -> None:
        """Remember a Contact the sender announced (it may change on a re-INVITE)."""
        if contact is None:
            return
        if from_target:
            self.target_contact = contact
        else:
            self.client_contact = contact

    def ends_with(self, message: SipMessage) -> bool:
        """True once the call is over: BYE answered, or the INVITE refused before any 2xx."""
        if message.is_request:
            return False
        method, status = message.cseq_method, message.status
        if method == "INVITE" and 200 <= status < 300:
            self.established = True
        if method == "BYE":
            return 200 <= status < 300 or status == 481
        return method == "INVITE" and status >= 300 and not self.established


def next_request_uri(
    message: SipMessage, *, from_target: bool, peer_contact: str | None, target: Address
) -> str:
    """Map a request sent to the relay back to the receiver's real Contact.

    Before a Contact is known (the first INVITE), a request from the client
    is re-addressed to the target's host:port, user part kept.
    """
    if peer_contact is not None:
        return peer_contact
    uri = request_uri(message)
    return uri if from_target else replace_hostport(uri, target)
