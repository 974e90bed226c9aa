"""Repository read for Prometheus: each probe's state and its latest hourly averages."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from store.pool import AsyncConn

GAUGES = {
    "mos": "Mean MOS over the latest hour with calls.",
    "jitter_ms": "Mean interarrival jitter (ms) over the latest hour.",
    "loss_pct": "Mean worst-direction packet loss (%) over the latest hour.",
    "pdd_ms": "Mean post-dial delay (ms) over the latest hour.",
    "latency_ms": "Mean check latency (ms) over the latest hour.",
    "success_ratio": "Successful runs / runs over the latest hour.",
}


@dataclass(frozen=True, kw_only=True, slots=True)
class ProbeGauge:
    """One probe's gauges; a value is None when nothing was measured."""

    probe_id: uuid.UUID
    name: str
    kind: str
    state: str
    values: dict[str, float | None]


_LATEST = """
SELECT p.id, p.name, p.kind, coalesce(h.state, 'unknown'),
       r.mos_sum / nullif(r.mos_n, 0), r.jitter_sum / nullif(r.jitter_n, 0),
       r.loss_sum / nullif(r.loss_n, 0), r.pdd_sum / nullif(r.pdd_n, 0),
       r.latency_sum / nullif(r.latency_n, 0), r.ok_runs::float / nullif(r.runs, 0)
FROM probes p
LEFT JOIN probe_health h ON h.probe_id = p.id AND h.location = ''
LEFT JOIN LATERAL (
    SELECT sum(runs) AS runs, sum(ok_runs) AS ok_runs, sum(mos_sum) AS mos_sum,
           sum(mos_n) AS mos_n, sum(jitter_sum) AS jitter_sum, sum(jitter_n) AS jitter_n,
           sum(loss_sum) AS loss_sum, sum(loss_n) AS loss_n, sum(pdd_sum) AS pdd_sum,
           sum(pdd_n) AS pdd_n, sum(latency_sum) AS latency_sum, sum(latency_n) AS latency_n
    FROM result_rollup_hourly x
    WHERE x.probe_id = p.id
      AND x.bucket = (SELECT max(bucket) FROM result_rollup_hourly y WHERE y.probe_id = p.id)
) r ON true
WHERE p.project_id = %(project)s
ORDER BY p.name, p.id
"""


async def latest(conn: AsyncConn, project_id: uuid.UUID) -> list[ProbeGauge]:
    """Every probe of the project with its state and latest-hour averages."""
    rows = await (await conn.execute(_LATEST, {"project": project_id})).fetchall()
    return [
        ProbeGauge(
            probe_id=row[0],
            name=row[1],
            kind=row[2],
            state=row[3],
            values=dict(zip(GAUGES, row[4:], strict=True)),
        )
        for row in rows
    ]
