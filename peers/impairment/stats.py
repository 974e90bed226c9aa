"""What the relay did, counted: live counters and their frozen snapshots.

Invariant once a call's delay lines are empty:
received = forwarded + dropped + unroutable, and the receiver sees
forwarded + duplicated datagrams. `delay_ms_total` sums the delay added to
forwarded packets (fixed delay, jitter and reorder holds).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass(frozen=True, kw_only=True, slots=True)
class StreamStats:
    """Counts for one stream (RTP, or RTCP) of one direction."""

    received: int = 0
    forwarded: int = 0
    dropped: int = 0
    duplicated: int = 0
    reordered: int = 0  # packets overtaken by a later one (RFC 4737 sense)
    delayed: int = 0  # packets given a non-zero delay
    delay_ms_total: float = 0.0
    unroutable: int = 0  # arrived before the far side's media address was known
    dropped_by_ssrc: dict[int, int] = field(default_factory=dict)

    def __add__(self, other: StreamStats) -> StreamStats:
        """Sum two snapshots (calls into totals)."""
        sums = {
            f.name: getattr(self, f.name) + getattr(other, f.name)
            for f in fields(self)
            if f.name != "dropped_by_ssrc"
        }
        by_ssrc = Counter(self.dropped_by_ssrc) + Counter(other.dropped_by_ssrc)
        return StreamStats(**sums, dropped_by_ssrc=dict(by_ssrc))


@dataclass(kw_only=True, slots=True)
class StreamCounters:
    """The live, mutable side of `StreamStats`."""

    received: int = 0
    forwarded: int = 0
    dropped: int = 0
    duplicated: int = 0
    reordered: int = 0
    delayed: int = 0
    delay_ms_total: float = 0.0
    unroutable: int = 0
    dropped_by_ssrc: Counter[int] = field(default_factory=Counter)

    def snapshot(self) -> StreamStats:
        """A frozen copy."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return StreamStats(**{**values, "dropped_by_ssrc": dict(self.dropped_by_ssrc)})


@dataclass(frozen=True, kw_only=True, slots=True)
class DirectionStats:
    """One direction: RTP (impaired) and RTCP (impaired only if asked)."""

    rtp: StreamStats = StreamStats()
    rtcp: StreamStats = StreamStats()

    def __add__(self, other: DirectionStats) -> DirectionStats:
        """Sum two directions' snapshots."""
        return DirectionStats(rtp=self.rtp + other.rtp, rtcp=self.rtcp + other.rtcp)


@dataclass(frozen=True, kw_only=True, slots=True)
class CallStats:
    """One call (one Call-ID with media), active or ended."""

    call_id: str
    ordinal: int  # 1 for the first call the relay saw; part of the call's seeds
    active: bool
    caller_facing_port: int  # relay RTP port the caller sends to (RTCP is +1)
    callee_facing_port: int  # relay RTP port the callee sends to (RTCP is +1)
    to_target: DirectionStats
    to_client: DirectionStats


@dataclass(frozen=True, kw_only=True, slots=True)
class RelayStats:
    """Everything the relay did so far; totals are sums over `calls`."""

    sip_address: str
    target_address: str
    sip_messages: int  # SIP messages relayed, both ways
    calls_active: int
    calls: tuple[CallStats, ...]
    to_target: DirectionStats
    to_client: DirectionStats

    @classmethod
    def of_calls(
        cls, *, sip_address: str, target_address: str, sip_messages: int, calls: list[CallStats]
    ) -> RelayStats:
        """Snapshot with per-direction totals summed over the calls."""
        return cls(
            sip_address=sip_address,
            target_address=target_address,
            sip_messages=sip_messages,
            calls_active=sum(call.active for call in calls),
            calls=tuple(calls),
            to_target=sum((call.to_target for call in calls), DirectionStats()),
            to_client=sum((call.to_client for call in calls), DirectionStats()),
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (SSRC keys become decimal strings in JSON)."""
        return asdict(self)

    def to_json(self) -> str:
        """Indented JSON."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)
