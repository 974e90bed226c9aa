"""The ICMP echo check: replies, loss and mean round trip (icmplib)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from icmplib import (  # type: ignore[import-untyped]
    NameLookupError,
    SocketPermissionError,
    async_ping,
)

from probes.kinds.options import IcmpOptions
from probes.result import CallResult, Outcome

NO_RAW_SOCKETS = "ICMP needs raw sockets (root/CAP_NET_RAW) or net.ipv4.ping_group_range"
REPLY_WAIT_SHARE = 0.9
"""Share of the time left after the send intervals that the replies may take, so that
an unanswered run ends as FAILED (all lost) just before the check's own timeout."""


async def check_icmp(
    host: str, options: IcmpOptions, timeout_s: float, base: CallResult
) -> CallResult:
    """Send ``count`` echo requests ``interval_s`` apart, each waiting its share of the timeout."""
    budget = timeout_s - (options.count - 1) * options.interval_s
    if budget <= 0:
        error = (
            f"{options.count} pings {options.interval_s:g} s apart do not fit in {timeout_s:g} s"
        )
        return replace(base, outcome=Outcome.INVALID_INPUT, error=error)
    wait_s = REPLY_WAIT_SHARE * budget / options.count
    try:
        reply = await _ping(host, options, wait_s)
    except NameLookupError:
        return replace(base, outcome=Outcome.INVALID_INPUT, error=f"cannot resolve {host!r}")
    except (PermissionError, SocketPermissionError):
        return replace(base, outcome=Outcome.ENGINE_ERROR, error=NO_RAW_SOCKETS)
    if int(reply.packets_sent) == 0:
        return replace(
            base, outcome=Outcome.FAILED, error=f"no echo request could be sent to {host}"
        )
    received = int(reply.packets_received)
    measured = replace(
        base,
        rx_packets=received,
        rx_loss_pct=round(float(reply.packet_loss) * 100.0, 3),
        latency_ms=float(reply.avg_rtt) if received else None,
    )
    if received == 0:
        return replace(measured, outcome=Outcome.FAILED, error="no echo replies")
    return replace(measured, outcome=Outcome.OK)


async def _ping(host: str, options: IcmpOptions, wait_s: float) -> Any:
    """Raw-socket ping first, then the kernel's unprivileged ICMP sockets."""
    kwargs = {"count": options.count, "interval": options.interval_s, "timeout": wait_s}
    try:
        return await async_ping(host, privileged=True, **kwargs)
    except (PermissionError, SocketPermissionError):
        return await async_ping(host, privileged=False, **kwargs)
