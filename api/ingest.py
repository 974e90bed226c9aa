"""Ingest posted results: complete their runs, store them once, roll them up.

A result is stored only if its run was leased to the posting agent's project and
location and not completed before, so a replayed spool or a re-issued lease that
both report never count twice. The probe, location and project come from the
run, not from what the agent claims. Health is judged afterwards, off the request
path (``api.evaluator``), for the probes :class:`Ingested` names.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from typing import Any

from probes.contract import IngestReport
from probes.result import CallResult
from store import results, runs
from store.pool import Pool, transaction


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Poster:
    """Who posts: the agent's project and location."""

    project_id: uuid.UUID
    location_id: uuid.UUID
    location: str


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Ingested:
    """What a batch did: the agent's report and the probes whose health may have moved."""

    report: IngestReport
    probe_ids: frozenset[uuid.UUID]


def parse_results(items: Sequence[dict[str, Any]]) -> tuple[list[CallResult], list[str]]:
    """Valid results, and a message per refused item (its index and why)."""
    parsed: list[CallResult] = []
    rejected: list[str] = []
    for index, item in enumerate(items):
        try:
            parsed.append(CallResult.from_json(item))
        except (KeyError, TypeError, ValueError) as exc:
            rejected.append(f"results[{index}]: {type(exc).__name__}: {exc}")
    return parsed, rejected


async def ingest(pool: Pool, poster: Poster, items: Sequence[dict[str, Any]]) -> Ingested:
    """Store a batch of agent results in one transaction."""
    parsed, rejected = parse_results(items)
    by_run = {r.run_id: r for r in parsed}
    async with transaction(pool) as conn:
        completed, known = await runs.complete_runs(
            conn,
            run_ids=list(by_run),
            project_id=poster.project_id,
            location_id=poster.location_id,
        )
        stamped = [
            dataclasses.replace(
                by_run[run.run_id],
                probe_id=run.probe_id,
                target=run.target,
                location=poster.location,
            )
            for run in completed
        ]
        await results.insert_results(conn, stamped, poster.project_id)
        await results.add_to_rollups(conn, [r.run_id for r in stamped])
    rejected += [
        f"run {run_id}: not leased to this agent" for run_id in by_run if run_id not in known
    ]
    duplicates = len(known) - len(completed)
    report = IngestReport(accepted=len(completed), duplicates=duplicates, rejected=rejected)
    return Ingested(report=report, probe_ids=frozenset(run.probe_id for run in completed))
