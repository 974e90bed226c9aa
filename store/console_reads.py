"""Reads the operator console's probe screens need beyond the results API's: a filtered
page of a probe's results, one result by its run id, and the answer-seizure ratio per
time bucket.

Every query is scoped by project and probe, so another project's run is never found.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from psycopg import sql

from probes.result import CallResult
from store.observations import NOT_ATTEMPTED
from store.pool import AsyncConn
from store.results import COLUMNS, to_result
from store.rows import fetch_all, fetch_one

_COLUMN_LIST = sql.SQL(", ").join(map(sql.Identifier, COLUMNS))

_PAGE = sql.SQL(
    "SELECT {columns} FROM call_results"
    " WHERE project_id = %(project)s AND probe_id = %(probe)s"
    " AND started_at >= %(start)s AND started_at < %(end)s"
    " AND (%(outcome)s::text IS NULL OR outcome = %(outcome)s)"
    " AND (%(location)s::text IS NULL OR location = %(location)s)"
    " ORDER BY started_at DESC, run_id LIMIT %(limit)s OFFSET %(offset)s"
).format(columns=_COLUMN_LIST)

_ONE = sql.SQL(
    "SELECT {columns} FROM call_results WHERE project_id = %s AND probe_id = %s AND run_id = %s"
).format(columns=_COLUMN_LIST)

# Seizures as judging counts them (store.observations): SIP calls that reached the far
# end; answered ones got a 2xx (ITU-T E.411 ASR).
_ASR = """
SELECT time_bucket(%(width)s, started_at) AS bucket, count(*) AS attempts,
       count(*) FILTER (WHERE sip_status BETWEEN 200 AND 299) AS answered
FROM call_results
WHERE project_id = %(project)s AND probe_id = %(probe)s
  AND started_at >= %(start)s AND started_at < %(end)s
  AND kind = 'sip_call' AND outcome <> ALL(%(not_attempted)s)
GROUP BY 1 ORDER BY 1
"""


@dataclass(frozen=True, kw_only=True, slots=True)
class ResultFilter:
    """Which of a probe's results a table shows: started in [start, end), optionally one
    outcome and one location."""

    start: datetime
    end: datetime
    outcome: str | None = None
    location: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class AsrBucket:
    """Call attempts and answered calls in one time bucket."""

    bucket: datetime
    attempts: int
    answered: int

    @property
    def asr_pct(self) -> float:
        return 100.0 * self.answered / self.attempts


async def result_page(
    conn: AsyncConn,
    project_id: uuid.UUID,
    probe_id: uuid.UUID,
    which: ResultFilter,
    *,
    limit: int,
    offset: int,
) -> list[CallResult]:
    """The results ``which`` selects, newest first, ``limit`` of them after ``offset``."""
    params = {
        "project": project_id,
        "probe": probe_id,
        "start": which.start,
        "end": which.end,
        "outcome": which.outcome,
        "location": which.location,
        "limit": limit,
        "offset": offset,
    }
    return await fetch_all(conn, to_result, _PAGE, params)


async def call_result(
    conn: AsyncConn, project_id: uuid.UUID, probe_id: uuid.UUID, run_id: uuid.UUID
) -> CallResult | None:
    """The probe's result of run ``run_id``, or None (also for another project's run)."""
    return await fetch_one(conn, to_result, _ONE, (project_id, probe_id, run_id))


async def asr_buckets(
    conn: AsyncConn,
    project_id: uuid.UUID,
    probe_id: uuid.UUID,
    *,
    start: datetime,
    end: datetime,
    width: timedelta,
) -> list[AsrBucket]:
    """Attempts and answers per ``width`` bucket of [start, end) with any attempt, oldest
    first."""
    params = {
        "project": project_id,
        "probe": probe_id,
        "start": start,
        "end": end,
        "width": width,
        "not_attempted": [outcome.value for outcome in NOT_ATTEMPTED],
    }
    return await fetch_all(conn, AsrBucket, _ASR, params)


_HOURLY_MOS = """
SELECT r.probe_id, r.bucket, sum(r.mos_sum) / sum(r.mos_n) AS mos
FROM result_rollup_hourly r JOIN probes p ON p.id = r.probe_id
WHERE p.project_id = %(project)s AND r.bucket >= %(since)s
GROUP BY r.probe_id, r.bucket HAVING sum(r.mos_n) > 0
ORDER BY r.probe_id, r.bucket
"""


async def hourly_mos(
    conn: AsyncConn, project_id: uuid.UUID, since: datetime
) -> dict[uuid.UUID, list[tuple[datetime, float]]]:
    """Each probe's mean MOS per hour since ``since`` (hours without a score left out)."""
    rows = await (
        await conn.execute(_HOURLY_MOS, {"project": project_id, "since": since})
    ).fetchall()
    found: dict[uuid.UUID, list[tuple[datetime, float]]] = {}
    for probe_id, bucket, mos in rows:
        found.setdefault(probe_id, []).append((bucket, float(mos)))
    return found
