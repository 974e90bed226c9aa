"""Judging's input: each probe's recent results, read as the threshold engine's observations."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from psycopg import sql

from probes.result import CallResult, Outcome
from store.pool import AsyncConn
from thresholds.judge import Observation

NOT_ATTEMPTED = (Outcome.INVALID_INPUT, Outcome.ENGINE_ERROR)
"""Runs that never reached the far end: not seizures, so outside ASR and SCR."""

NOT_COMPLETED = (Outcome.DROPPED, Outcome.NEGOTIATION_FAILED)
"""Answered calls that are not completed sessions (RFC 6076 SCR)."""

HISTORY_COLUMNS: tuple[str, ...] = (
    *("run_id", "location", "kind", "started_at", "outcome", "sip_status", "status_code"),
    *("pesq_mos", "emodel_mos", "r_factor", "jitter_ms", "rx_loss_pct", "tx_loss_pct"),
    *("rtt_ms", "pdd_ms", "setup_ms", "register_ms", "latency_ms", "load_cpu", "load_ram"),
)
"""The columns an observation is made of, in :func:`observation_of`'s order."""

# The newest ``depth`` results of each (probe, location) asked for: one short range of
# the (probe, location, time) index each. Read as tuples (binary), not as CallResults:
# judging reads many rows a second, and a row object per result was most of its cost.
_RECENT = sql.SQL("""
SELECT w.probe_id, {columns}
FROM unnest(%(ids)b::uuid[], %(locations)b::text[], %(depths)b::int[])
    AS w(probe_id, location, depth)
CROSS JOIN LATERAL (
    SELECT * FROM call_results c
    WHERE c.probe_id = w.probe_id AND c.location = w.location AND c.started_at >= %(since)s
    ORDER BY c.started_at DESC
    LIMIT w.depth
) AS r
""").format(
    columns=sql.SQL(", ").join(
        sql.SQL("r.run_id::text") if c == "run_id" else sql.Identifier("r", c)
        for c in HISTORY_COLUMNS
    )
)

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
    async with conn.cursor(binary=True) as cur:
        await cur.execute(_RECENT, params)
        while page := await cur.fetchmany(ROWS_PER_PAGE):
            for row in page:
                grouped[row[0], row[2]].append(observation_of(row[1:]))
            # Rows become observations here, on the API's event loop.
            await asyncio.sleep(0)
    return grouped


def observation(result: CallResult) -> Observation:
    """The engine's view of one result (:func:`observation_of` its columns)."""
    row = tuple(getattr(result, column) for column in HISTORY_COLUMNS)
    return observation_of((str(result.run_id), result.location or "", *row[2:]))


def observation_of(row: Sequence[Any]) -> Observation:
    """The engine's view of one result's :data:`HISTORY_COLUMNS` (its run id as text):
    its outcome and metric values by metric name."""
    run_id, location, kind, at, outcome, sip_status, status_code, pesq, emodel = row[:9]
    r_factor, jitter, rx_loss, tx_loss, rtt, pdd, setup, register, latency, cpu, ram = row[9:]
    loss = [v for v in (rx_loss, tx_loss) if v is not None]
    values: dict[str, float | None] = {
        "mos": pesq if pesq is not None else emodel,
        "pesq_mos": pesq,
        "emodel_mos": emodel,
        "r_factor": r_factor,
        "jitter_ms": jitter,
        "loss_pct": max(loss) if loss else None,
        "rtt_ms": rtt,
        "pdd_ms": pdd,
        "setup_ms": setup,
        "register_ms": register,
        "latency_ms": latency,
        "load_cpu": cpu,
        "load_ram": ram,
    }
    answered = completed = None
    if kind == "sip_call" and outcome not in NOT_ATTEMPTED:
        answered = sip_status is not None and 200 <= sip_status < 300
        completed = answered and outcome not in NOT_COMPLETED
    code = sip_status or status_code
    return Observation(
        run_id=run_id,
        at=at,
        location=location,
        ok=outcome == Outcome.OK,
        outcome=f"{outcome}{f' ({code})' if code else ''}",
        values=values,
        answered=answered,
        completed=completed,
    )
