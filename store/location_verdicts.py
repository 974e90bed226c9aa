"""Repository of each location's settled verdict (``location_verdicts``) and its deadline.

Judging keeps, per (probe, location), the verdict of the location's recent results
before silence is judged (:class:`thresholds.evaluate.Settled`), so a pass re-reads
only the locations that reported and combines them with the others' kept verdicts.
``due_at`` is when time alone changes a verdict; the sweep marks the pairs past it.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from psycopg.types.json import Jsonb

from store.pool import AsyncConn
from thresholds.evaluate import Settled
from thresholds.states import State
from thresholds.transitions import reason_json, reason_of


@dataclass(frozen=True, kw_only=True, slots=True)
class Kept:
    """A location's settled verdict as judging writes it; ``settled`` None deletes it
    (no result of the location is left in the history window)."""

    probe_id: uuid.UUID
    location: str
    settled: Settled | None
    due_at: datetime | None


# The probes' kept verdicts but those of the pairs named (judging re-reads them anyway).
_READ = """
SELECT v.probe_id, v.location, v.state, v.reasons, v.newest_at, v.oldest_at
FROM location_verdicts v
WHERE v.probe_id = ANY(%(ids)b) AND NOT EXISTS (
    SELECT FROM unnest(%(probes)b::uuid[], %(locations)b::text[]) AS s(probe_id, location)
    WHERE s.probe_id = v.probe_id AND s.location = v.location)
"""

# One statement for the whole batch (an upsert per row was a round trip per pair).
_SAVE = """
INSERT INTO location_verdicts AS v
    (probe_id, location, state, reasons, newest_at, oldest_at, due_at)
SELECT * FROM unnest(%(probes)b::uuid[], %(locations)b::text[], %(states)b::text[],
                     %(reasons)b::jsonb[], %(newest)b::timestamptz[],
                     %(oldest)b::timestamptz[], %(due)b::timestamptz[])
ORDER BY 1, 2
ON CONFLICT (probe_id, location) DO UPDATE SET
    state = excluded.state, reasons = excluded.reasons, newest_at = excluded.newest_at,
    oldest_at = excluded.oldest_at, due_at = excluded.due_at
"""

_DROP = """
DELETE FROM location_verdicts v
USING unnest(%(probes)b::uuid[], %(locations)b::text[]) AS d(probe_id, location)
WHERE v.probe_id = d.probe_id AND v.location = d.location
"""

# Due pairs of enabled probes, oldest deadline first; their deadline is cleared and they
# are marked in one statement, so concurrent sweeps (SKIP LOCKED) mark each pair once.
_MARK_DUE = """
WITH due AS (
    SELECT v.probe_id, v.location FROM location_verdicts v
    JOIN probes p ON p.id = v.probe_id AND p.enabled
    WHERE v.due_at <= %(now)s ORDER BY v.due_at LIMIT %(limit)s FOR UPDATE OF v SKIP LOCKED
), cleared AS (
    UPDATE location_verdicts v SET due_at = NULL FROM due
    WHERE v.probe_id = due.probe_id AND v.location = due.location
    RETURNING v.probe_id, v.location
), marked AS (
    INSERT INTO judging_queue AS q (probe_id, location)
    SELECT probe_id, location FROM cleared ORDER BY 1, 2
    ON CONFLICT (probe_id, location) DO UPDATE
        SET marked_at = excluded.marked_at, leased_until = NULL
        WHERE q.leased_until IS NOT NULL
)
SELECT count(*) FROM cleared
"""


async def kept(
    conn: AsyncConn, probe_ids: Sequence[uuid.UUID], skip: Collection[tuple[uuid.UUID, str]] = ()
) -> dict[uuid.UUID, dict[str, Settled]]:
    """The kept verdicts of the probes' locations, but those of the ``skip`` pairs."""
    found: dict[uuid.UUID, dict[str, Settled]] = {p: {} for p in probe_ids}
    params = {
        "ids": list(probe_ids),
        "probes": [p for p, _ in skip],
        "locations": [loc for _, loc in skip],
    }
    async with conn.cursor() as cur:
        await cur.execute(_READ, params)
        for probe_id, location, state, reasons, newest, oldest in await cur.fetchall():
            verdict = (State(state), tuple(map(reason_of, reasons)))
            found[probe_id][location] = Settled(verdict=verdict, newest=newest, oldest=oldest)
    return found


async def save(conn: AsyncConn, rows: Sequence[Kept]) -> None:
    """Write (one statement) or delete the given locations' verdicts."""
    gone = [row for row in rows if row.settled is None]
    kept_rows = [(row, row.settled) for row in rows if row.settled is not None]
    if kept_rows:
        await conn.execute(_SAVE, _columns(kept_rows))
    if gone:
        drop = {"probes": [r.probe_id for r in gone], "locations": [r.location for r in gone]}
        await conn.execute(_DROP, drop)


async def mark_due(conn: AsyncConn, now: datetime, limit: int) -> int:
    """Mark for judging up to ``limit`` pairs whose deadline passed; how many were."""
    row = await (await conn.execute(_MARK_DUE, {"now": now, "limit": limit})).fetchone()
    return int(row[0]) if row else 0


def _columns(rows: Sequence[tuple[Kept, Settled]]) -> dict[str, list[object]]:
    return {
        "probes": [row.probe_id for row, _ in rows],
        "locations": [row.location for row, _ in rows],
        "states": [settled.verdict[0].value for _, settled in rows],
        "reasons": [Jsonb([reason_json(r) for r in settled.verdict[1]]) for _, settled in rows],
        "newest": [settled.newest for _, settled in rows],
        "oldest": [settled.oldest for _, settled in rows],
        "due": [row.due_at for row, _ in rows],
    }
