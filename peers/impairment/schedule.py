"""When to send each surviving packet, and whether twice: delay, jitter, reorder, duplicate.

Pure and seeded: `plan(now)` takes the arrival time (seconds, any monotonic
clock) and returns the send time. Reordering holds a packet back an extra
`reorder_delay_ms` so that the packets behind it overtake it. The count of
reordered packets is exact, not the count of holds: a packet counts once,
when the first later packet is planned to leave before it (RFC 4737's
"reordered": it arrives after a packet sent later than itself). That needs
the sender to emit packets in (send time, arrival order) order, which the
relay's delay line does.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from peers.impairment.config import Impairment, JitterDistribution


@dataclass(frozen=True, kw_only=True, slots=True)
class Plan:
    """The fate of one packet that was not dropped."""

    send_at: float  # seconds, on the clock `now` came from
    added_delay: float  # send_at - now
    copies: int  # 1, or 2 when duplicated (the copy leaves right after the original)
    newly_reordered: int  # earlier packets this one overtakes for the first time


class Schedule:
    """Plans packets of one direction of one stream, in arrival order."""

    def __init__(self, impairment: Impairment, rng: random.Random) -> None:
        self._impairment = impairment
        self._rng = rng
        self._last_in_order = float("-inf")
        self._in_flight: list[float] = []  # send times of earlier packets not yet overtaken

    def plan(self, now: float) -> Plan:
        """Draw jitter, hold and duplication (always in that order) for a packet arriving now."""
        imp = self._impairment
        send_at = now + (imp.delay_ms + self._jitter_ms()) / 1000.0
        held = self._rng.random() * 100.0 < imp.reorder_pct
        duplicated = self._rng.random() * 100.0 < imp.duplicate_pct
        if imp.preserve_order:
            send_at = max(send_at, self._last_in_order)
        if held:
            send_at += imp.reorder_delay_ms / 1000.0
        else:
            self._last_in_order = send_at
        return Plan(
            send_at=send_at,
            added_delay=send_at - now,
            copies=2 if duplicated else 1,
            newly_reordered=self._overtake(now, send_at),
        )

    def _jitter_ms(self) -> float:
        """Extra delay in [0, jitter_ms]; one draw whatever the distribution."""
        jitter = self._impairment.jitter_ms
        if self._impairment.jitter_distribution is JitterDistribution.UNIFORM:
            return self._rng.uniform(0.0, jitter)
        return min(max(self._rng.gauss(jitter / 2.0, jitter / 4.0), 0.0), jitter)

    def _overtake(self, now: float, send_at: float) -> int:
        """Count (and forget) earlier in-flight packets that will now leave after this one."""
        still_waiting = [t for t in self._in_flight if t > now]
        self._in_flight = [t for t in still_waiting if t <= send_at]
        self._in_flight.append(send_at)
        return len(still_waiting) - (len(self._in_flight) - 1)
