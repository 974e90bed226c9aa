"""Impairment relay: SIP + RTP through a userspace UDP relay with seeded, counted impairments.

There is no `tc netem` on our machines, so tests and demos put this relay
between a UAC and a UAS: it rewrites SDP so RTP flows through it, and applies
per-direction loss (random, Gilbert-Elliott), delay, jitter, reordering and
duplication to RTP, counting exactly what it did.
"""

from peers.impairment.config import GilbertElliott, Impairment, JitterDistribution, RelayConfig
from peers.impairment.relay import ImpairmentRelay, run_relay
from peers.impairment.stats import CallStats, DirectionStats, RelayStats, StreamStats

__all__ = [
    "CallStats",
    "DirectionStats",
    "GilbertElliott",
    "Impairment",
    "ImpairmentRelay",
    "JitterDistribution",
    "RelayConfig",
    "RelayStats",
    "StreamStats",
    "run_relay",
]
