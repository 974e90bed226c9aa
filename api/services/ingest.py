"""The one write path for results: agent posts, push reports and the CLI's own calls.

Each stores its results through :func:`store_results` in its transaction (the rows,
skipping run ids already stored, their hourly rollups, and a mark per probe and
location in the judging queue every replica shares) and, once committed, nudges this
process's judging loop (:func:`hand_off`); the CLI's results belong to no probe.

An agent's result is stored only if the posting agent holds or held its run (its
project, location and agent: an agent cut off while its lease went to another may
deliver late, and the first result wins) and it started within the run's lease (from
``skew_s`` before it was first leased to ``skew_s`` from now), and only once, so a
replayed spool or a re-issued lease that both report never count twice and a result
dated far from its lease never reaches the results table. The probe, location and
project come from the run, not from what the agent claims, and the start from the
server's clock (the agent's, bounded by the first lease and the receipt: see
``store.runs``), so the hourly rollup counts a late result into the hour it started
and a skewed agent's results keep their order. Every refused item is reported back
with its reason.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from typing import Any

from api import telemetry
from api.services.judging_queue import JudgingLoop
from probes.contract import IngestReport, Refusal
from probes.result import CallResult, Outcome
from store import health, judging_queue, results, runs
from store.pool import AsyncConn, Pool, transaction


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Stored:
    """What one write stored: how many results were new, and their probes."""

    count: int
    probe_ids: frozenset[uuid.UUID]


async def store_results(
    conn: AsyncConn, batch: Sequence[CallResult], project_id: uuid.UUID | None = None
) -> Stored:
    """The one write of results, in the caller's transaction: new rows, their rollups
    and their (probe, location) marks for judging."""
    new = set(await results.record_results(conn, batch, project_id))
    judged = {(r.probe_id, r.location or "") for r in batch if r.run_id in new and r.probe_id}
    await judging_queue.mark(conn, judged)
    return Stored(count=len(new), probe_ids=frozenset(pid for pid, _ in judged))


def hand_off(judging: JudgingLoop, stored: Stored) -> None:
    """After the commit: count what was stored and wake the judging loop."""
    telemetry.RESULTS_INGESTED.inc(stored.count)
    if stored.probe_ids:
        judging.nudge()


async def push(
    pool: Pool, judging: JudgingLoop, token_hash: bytes, *, cpu: float | None, ram: float | None
) -> bool:
    """Record a push report (Crisp's push mode) for the enabled push probe holding this
    token hash; False when none does."""
    async with transaction(pool) as conn:
        found = await health.probe_for_push_token(conn, token_hash)
        if found is None:
            return False
        probe_id, project_id = found
        stored = await store_results(conn, [push_result(probe_id, cpu, ram)], project_id)
    hand_off(judging, stored)
    return True


def push_result(probe_id: uuid.UUID, cpu: float | None, ram: float | None) -> CallResult:
    """A push report as a result: always ok, with the load the reporter sent."""
    return CallResult(
        kind="push",
        probe="push",
        probe_id=probe_id,
        target="",
        location="push",
        outcome=Outcome.OK,
        load_cpu=cpu,
        load_ram=ram,
    )


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
    pool: Pool,
    judging: JudgingLoop,
    poster: Poster,
    items: Sequence[dict[str, Any]],
    *,
    skew_s: float,
) -> Ingested:
    """Store a batch of agent results in one transaction, then hand it to judging."""
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
                started_at=run.started_at,
            )
            for run in done.completed
        ]
        stored = await store_results(conn, stamped, poster.project_id)
    hand_off(judging, stored)
    report = _report(parsed, refused, done, skew_s=skew_s)
    return Ingested(report=report, probe_ids=stored.probe_ids)


def _report(
    parsed: dict[uuid.UUID, tuple[int, CallResult]],
    refused: list[Refusal],
    done: runs.Completion,
    *,
    skew_s: float,
) -> IngestReport:
    """The agent's answer: counts, and a refusal for every item not stored or a duplicate."""
    counted = {run.run_id for run in done.completed} | done.duplicates
    refused = refused + [
        _refusal(index, result, outside=run_id in done.outside_lease, skew_s=skew_s)
        for run_id, (index, result) in parsed.items()
        if run_id not in counted
    ]
    return IngestReport(
        accepted=len(done.completed),
        duplicates=len(done.duplicates),
        rejected=[refusal.reason for refusal in refused],
        refused=refused,
    )


def _refusal(index: int, result: CallResult, *, outside: bool, skew_s: float) -> Refusal:
    if outside:
        reason = (
            f"run {result.run_id}: started_at {result.started_at.isoformat()} is outside its"
            f" lease (from {skew_s:g} s before it was first leased to {skew_s:g} s from now)"
        )
    else:
        reason = f"run {result.run_id}: not leased to this agent"
    return Refusal(index=index, run_id=result.run_id, reason=reason)
