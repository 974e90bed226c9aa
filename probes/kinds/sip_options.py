"""The SIP OPTIONS check: is a SIP server answering, how fast, and with which code."""

from __future__ import annotations

from dataclasses import replace

from probes.kinds.options import SipOptionsOptions
from probes.kinds.sip_wire import (
    Dialog,
    build_request,
    new_branch,
    new_token,
    open_channel,
    transact,
)
from probes.result import CallResult, Outcome
from probes.sip.uri import SipUri


async def check_options(uri: SipUri, options: SipOptionsOptions, base: CallResult) -> CallResult:
    """Send one OPTIONS to ``uri``; OK when the final code is in ``accepted_codes``.

    ``latency_ms`` runs from the first transmission to the final response, so
    it includes any UDP retransmissions a lost request needed.
    """
    channel = await open_channel(uri)
    try:
        host = channel.local[0]
        dialog = Dialog(
            request_uri=str(uri),
            from_uri=f"sip:callprobe@{host}",
            to_uri=str(uri),
            call_id=new_token(),
            from_tag=new_token(),
        )
        branch = new_branch()
        extra = ("Accept: application/sdp",)
        message = build_request("OPTIONS", dialog, channel, cseq=1, branch=branch, extra=extra)
        response, latency_ms = await transact(channel, message, branch)
    finally:
        await channel.close()
    accepted = response.status in options.accepted_codes
    return replace(
        base,
        outcome=Outcome.OK if accepted else Outcome.FAILED,
        error=None if accepted else f"answered {response.status} {response.reason}".strip(),
        sip_status=response.status,
        sip_reason=response.reason,
        latency_ms=latency_ms,
    )
