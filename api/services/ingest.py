"""Ingest posted results: complete their runs, store them once, roll them up.

A result is stored only if its run is leased to the posting agent (its project,
location and agent: a lease re-issued to another agent no longer counts for the
first) and started within that lease (from ``skew_s`` before it was leased to
``skew_s`` from now), and only once, so a replayed spool or a re-issued lease
that both report never count twice and a result dated far from its lease never
reaches the results table. The probe, location and project come from the run,
not from what the agent claims. Every refused item is reported back with its
reason. Health is judged afterwards, off the request path (``api.services.judging_queue``),
for the probes :class:`Ingested` names.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from typing import Any

from probes.contract import IngestReport, Refusal
from probes.result import CallResult
from store import results, runs
from store.pool import Pool, transaction


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Poster:
    """Who posts: the agent, its project and location."""

    agent_id: uuid.UUID
    project_id: uuid.UUID
    location_id: uuid.UUID
    location: str


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Ingested:
    """What a batch did: the agent's report and the probes whose health may have moved."""

    report: IngestReport
    probe_ids: frozenset[uuid.UUID]


def parse_results(
    items: Sequence[dict[str, Any]],
) -> tuple[dict[uuid.UUID, tuple[int, CallResult]], list[Refusal]]:
    """Valid results by run id (with their index), and a refusal per item that is not."""
    parsed: dict[uuid.UUID, tuple[int, CallResult]] = {}
    refused: list[Refusal] = []
    for index, item in enumerate(items):
        try:
            result = CallResult.from_json(item)
        except (KeyError, TypeError, ValueError) as exc:
            reason = f"results[{index}]: {type(exc).__name__}: {exc}"
            refused.append(Refusal(index=index, run_id=None, reason=reason))
        else:
            parsed[result.run_id] = (index, result)
    return parsed, refused


async def ingest(
    pool: Pool, poster: Poster, items: Sequence[dict[str, Any]], *, skew_s: float
) -> Ingested:
    """Store a batch of agent results in one transaction."""
    parsed, refused = parse_results(items)
    holder = runs.Holder(
        project_id=poster.project_id, location_id=poster.location_id, agent_id=poster.agent_id
    )
    started = {run_id: result.started_at for run_id, (_, result) in parsed.items()}
    async with transaction(pool) as conn:
        done = await runs.complete_runs(conn, started=started, holder=holder, skew_s=skew_s)
        stamped = [
            dataclasses.replace(
                parsed[run.run_id][1],
                probe_id=run.probe_id,
                target=run.target,
                location=poster.location,
            )
            for run in done.completed
        ]
        await results.insert_results(conn, stamped, poster.project_id)
        await results.add_to_rollups(conn, [r.run_id for r in stamped])
    counted = {run.run_id for run in done.completed} | done.duplicates
    refused += [
        _refusal(index, result, outside=run_id in done.outside_lease, skew_s=skew_s)
        for run_id, (index, result) in parsed.items()
        if run_id not in counted
    ]
    report = IngestReport(
        accepted=len(done.completed),
        duplicates=len(done.duplicates),
        rejected=[refusal.reason for refusal in refused],
        refused=refused,
    )
    return Ingested(report=report, probe_ids=frozenset(run.probe_id for run in done.completed))


def _refusal(index: int, result: CallResult, *, outside: bool, skew_s: float) -> Refusal:
    if outside:
        reason = (
            f"run {result.run_id}: started_at {result.started_at.isoformat()} is outside its"
            f" lease (from {skew_s:g} s before it was leased to {skew_s:g} s from now)"
        )
    else:
        reason = f"run {result.run_id}: not leased to this agent"
    return Refusal(index=index, run_id=result.run_id, reason=reason)
