"""Judging's input: each probe's recent results, read as the threshold engine's observations."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

from psycopg import sql
from psycopg.rows import kwargs_row

from probes.result import CallResult, Outcome
from store.pool import AsyncConn
from store.results import to_result
from thresholds.judge import Observation

NOT_ATTEMPTED = (Outcome.INVALID_INPUT, Outcome.ENGINE_ERROR)
"""Runs that never reached the far end: not seizures, so outside ASR and SCR."""

NOT_COMPLETED = (Outcome.DROPPED, Outcome.NEGOTIATION_FAILED)
"""Answered calls that are not completed sessions (RFC 6076 SCR)."""

HISTORY_COLUMNS: tuple[str, ...] = (
    *("run_id", "probe", "probe_id", "location", "kind", "target", "started_at", "outcome"),
    *("sip_status", "status_code", "pesq_mos", "emodel_mos", "r_factor", "jitter_ms"),
    *("rx_loss_pct", "tx_loss_pct", "rtt_ms", "pdd_ms", "setup_ms", "register_ms"),
    *("latency_ms", "load_cpu", "load_ram"),
)
"""The columns health evaluation reads (the rest of a result keeps its defaults)."""

# The newest ``depth`` results of each (probe, location) asked for: one short range of
# the (probe, location, time) index each.
_RECENT = sql.SQL("""
SELECT {columns}
FROM unnest(%(ids)s::uuid[], %(locations)s::text[], %(depths)s::int[])
    AS w(probe_id, location, depth)
CROSS JOIN LATERAL (
    SELECT * FROM call_results c
    WHERE c.probe_id = w.probe_id AND c.location = w.location AND c.started_at >= %(since)s
    ORDER BY c.started_at DESC
    LIMIT w.depth
) AS r
""").format(columns=sql.SQL(", ").join(sql.Identifier("r", c) for c in HISTORY_COLUMNS))

ROWS_PER_PAGE = 500
"""History rows converted between two chances for other requests to run."""

Pair = tuple[uuid.UUID, str]
"""A probe and one of its locations."""


async def recent_observations(
    conn: AsyncConn, depths: dict[Pair, int], since: datetime
) -> dict[Pair, list[Observation]]:
    """The newest ``depths[(probe, location)]`` results of each pair since ``since``
    (only :data:`HISTORY_COLUMNS` are read), as observations."""
    pairs = list(depths)
    params = {
        "ids": [p for p, _ in pairs],
        "locations": [loc for _, loc in pairs],
        "depths": [depths[pair] for pair in pairs],
        "since": since,
    }
    grouped: dict[Pair, list[Observation]] = {pair: [] for pair in pairs}
    async with conn.cursor(row_factory=kwargs_row(to_result)) as cur:
        await cur.execute(_RECENT, params)
        while page := await cur.fetchmany(ROWS_PER_PAGE):
            for result in page:
                if result.probe_id is not None:
                    grouped[result.probe_id, result.location or ""].append(observation(result))
            # Rows become observations here, on the API's event loop.
            await asyncio.sleep(0)
    return grouped


def observation(result: CallResult) -> Observation:
    """The engine's view of one result: its outcome and metric values by metric name."""
    loss = [v for v in (result.rx_loss_pct, result.tx_loss_pct) if v is not None]
    values: dict[str, float | None] = {
        "mos": result.pesq_mos if result.pesq_mos is not None else result.emodel_mos,
        "pesq_mos": result.pesq_mos,
        "emodel_mos": result.emodel_mos,
        "r_factor": result.r_factor,
        "jitter_ms": result.jitter_ms,
        "loss_pct": max(loss) if loss else None,
        "rtt_ms": result.rtt_ms,
        "pdd_ms": result.pdd_ms,
        "setup_ms": result.setup_ms,
        "register_ms": result.register_ms,
        "latency_ms": result.latency_ms,
        "load_cpu": result.load_cpu,
        "load_ram": result.load_ram,
    }
    answered = completed = None
    if result.kind == "sip_call" and result.outcome not in NOT_ATTEMPTED:
        answered = result.sip_status is not None and 200 <= result.sip_status < 300
        completed = answered and result.outcome not in NOT_COMPLETED
    return Observation(
        run_id=str(result.run_id),
        at=result.started_at,
        location=result.location or "",
        ok=result.outcome is Outcome.OK,
        outcome=_outcome_text(result),
        values=values,
        answered=answered,
        completed=completed,
    )


def _outcome_text(result: CallResult) -> str:
    code = result.sip_status or result.status_code
    detail = f" ({code})" if code else ""
    return f"{result.outcome.value}{detail}"
