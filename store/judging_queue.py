"""Repository of the judging queue that every API replica shares (``judging_queue``).

A mark is a (probe, location) with results not judged yet (location ``''``: the whole
probe, which the schema's triggers mark when its configuration changes). Marks are
leased in batches with ``SKIP LOCKED``, so replicas never claim the same one, and
released in the transaction that writes their judgement, unless they were marked again
meanwhile (a marked-again lease is cleared, so the pair is claimed afresh).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from store.pool import AsyncConn
from store.rows import fetch_all

WHOLE_PROBE = ""
"""The location of a mark that asks for every location of the probe."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Claim:
    """A leased mark; ``marked_at`` identifies this mark when it is released."""

    probe_id: uuid.UUID
    location: str
    marked_at: datetime


_MARK = """
INSERT INTO judging_queue AS q (probe_id, location)
SELECT * FROM unnest(%(probes)s::uuid[], %(locations)s::text[]) ORDER BY 1, 2
ON CONFLICT (probe_id, location) DO UPDATE
    SET marked_at = excluded.marked_at, leased_until = NULL
    WHERE q.leased_until IS NOT NULL
"""

# The probes of the oldest marks, oldest first, and all their waiting marks, so a probe
# whose locations reported together is judged once for all of them. A probe's marks are
# never split between claims (judged from part of its locations, it could record a
# state that the rest would undo at once): the claim stops before the probe that would
# take it past the limit, unless that is the first. The oldest marks are locked too, so
# replicas claiming at once start from different probes.
_CLAIM = """
WITH oldest AS (
    SELECT probe_id, min(marked_at) AS first
    FROM (SELECT probe_id, marked_at FROM judging_queue
          WHERE leased_until IS NULL OR leased_until < now()
          ORDER BY marked_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED) AS o
    GROUP BY probe_id
), waiting AS (
    SELECT o.probe_id, o.first, count(*) AS marks
    FROM judging_queue j JOIN oldest o USING (probe_id)
    WHERE j.leased_until IS NULL OR j.leased_until < now()
    GROUP BY o.probe_id, o.first
), chosen AS (
    SELECT probe_id FROM (
        SELECT probe_id, marks, sum(marks) OVER (ORDER BY first, probe_id) - marks AS before
        FROM waiting) AS w
    WHERE before = 0 OR before + marks <= %(limit)s
), c AS (
    SELECT j.probe_id, j.location FROM judging_queue j JOIN chosen USING (probe_id)
    WHERE j.leased_until IS NULL OR j.leased_until < now()
    FOR UPDATE OF j SKIP LOCKED
)
UPDATE judging_queue q SET leased_until = now() + make_interval(secs => %(lease)s)
FROM c WHERE q.probe_id = c.probe_id AND q.location = c.location
RETURNING q.probe_id, q.location, q.marked_at
"""

_RELEASE = """
DELETE FROM judging_queue q
USING unnest(%(probes)b::uuid[], %(locations)b::text[], %(marked)b::timestamptz[])
    AS c(probe_id, location, marked_at)
WHERE q.probe_id = c.probe_id AND q.location = c.location AND q.marked_at = c.marked_at
RETURNING extract(epoch FROM clock_timestamp() - q.marked_at)::float8
"""

_UNLEASE = """
UPDATE judging_queue q SET leased_until = NULL
FROM unnest(%(probes)s::uuid[], %(locations)s::text[], %(marked)s::timestamptz[])
    AS c(probe_id, location, marked_at)
WHERE q.probe_id = c.probe_id AND q.location = c.location AND q.marked_at = c.marked_at
"""

_PENDING = "SELECT count(*) FROM judging_queue"


async def mark(conn: AsyncConn, pairs: Iterable[tuple[uuid.UUID, str]]) -> None:
    """Mark (probe, location) pairs for judging, in the caller's transaction (one
    statement; sorted, so concurrent ingests lock marks in one order)."""
    ordered = sorted(set(pairs))
    if ordered:
        params = {"probes": [p for p, _ in ordered], "locations": [loc for _, loc in ordered]}
        await conn.execute(_MARK, params)


async def claim(conn: AsyncConn, limit: int, lease_s: float) -> list[Claim]:
    """Lease up to ``limit`` marks (more only when one probe has more), whole probes in
    the order of their oldest mark, skipping marks another replica holds."""
    return await fetch_all(conn, Claim, _CLAIM, {"limit": limit, "lease": lease_s})


async def release(conn: AsyncConn, claims: Sequence[Claim]) -> list[float]:
    """Delete the claimed marks not marked again since (in the judgement's transaction);
    the seconds each waited from its mark to now."""
    if not claims:
        return []
    rows = await (await conn.execute(_RELEASE, _columns(claims))).fetchall()
    return [row[0] for row in rows]


async def unlease(conn: AsyncConn, claims: Sequence[Claim]) -> None:
    """Hand claimed marks back at once (their judgement failed, or another replica is
    judging their probe), not when the lease ends."""
    if claims:
        await conn.execute(_UNLEASE, _columns(claims))


async def pending(conn: AsyncConn) -> int:
    """Marks waiting or being judged."""
    row = await (await conn.execute(_PENDING)).fetchone()
    return int(row[0]) if row else 0


def _columns(claims: Sequence[Claim]) -> dict[str, list[object]]:
    return {
        "probes": [c.probe_id for c in claims],
        "locations": [c.location for c in claims],
        "marked": [c.marked_at for c in claims],
    }
