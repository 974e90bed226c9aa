"""Repository reads for uptime: each probe's health state over a period.

Kept apart from ``store.health`` so status pages can read it without importing
the probe result model.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from store.pool import AsyncConn

# The newest transition before the period, one short backward index scan per probe,
# and, when that state is degraded or unhealthy, when that bad stretch began.
_STATES_BEFORE = """
SELECT w.probe_id, t.to_state, CASE WHEN t.to_state IN ('degraded', 'unhealthy') THEN (
    SELECT max(h.at) FROM health_transitions h
    WHERE h.probe_id = w.probe_id AND h.at < %(start)s
      AND h.to_state IN ('degraded', 'unhealthy')
      AND h.from_state NOT IN ('degraded', 'unhealthy')
) END AS bad_since
FROM unnest(%(ids)s::uuid[]) AS w(probe_id)
CROSS JOIN LATERAL (
    SELECT to_state FROM health_transitions h
    WHERE h.probe_id = w.probe_id AND h.at < %(start)s ORDER BY h.at DESC, h.id DESC LIMIT 1
) AS t
"""

_STATES_DURING = """
SELECT probe_id, at, to_state,
       CASE WHEN to_state IN ('degraded', 'unhealthy') THEN reasons END AS reasons
FROM health_transitions
WHERE probe_id = ANY(%(ids)s) AND at >= %(start)s AND at < %(end)s ORDER BY probe_id, at, id
"""


@dataclass(frozen=True, slots=True)
class StateChange:
    """A probe's overall state from ``at`` on, with the reasons that decided it (kept
    for degraded and unhealthy states only)."""

    at: datetime
    state: str
    reasons: list[dict[str, Any]]


@dataclass(frozen=True, kw_only=True, slots=True)
class StateHistory:
    """A probe's state when a period starts, and each change within it (oldest first)."""

    before: str
    changes: list[StateChange]
    bad_since: datetime | None = None
    """When ``before`` is degraded or unhealthy: when that stretch began."""


async def state_histories(
    conn: AsyncConn, probe_ids: Sequence[uuid.UUID], start: datetime, end: datetime
) -> dict[uuid.UUID, StateHistory]:
    """What uptime over [start, end) needs, for many probes in two queries; a probe
    with no transition before ``start`` was ``unknown`` then."""
    params = {"ids": list(probe_ids), "start": start, "end": end}
    rows = await (await conn.execute(_STATES_BEFORE, params)).fetchall()
    before = {probe: (state, since) for probe, state, since in rows}
    histories = {}
    for probe in probe_ids:
        state, since = before.get(probe, ("unknown", None))
        histories[probe] = StateHistory(before=state, changes=[], bad_since=since)
    for probe, at, state, reasons in await (await conn.execute(_STATES_DURING, params)).fetchall():
        histories[probe].changes.append(StateChange(at, state, reasons or []))
    return histories
