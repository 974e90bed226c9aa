"""Routes agents use: lease due runs, post results, hand back runs when stopping (the
contract in probes/contract.py)."""

from __future__ import annotations

import logging
import time
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException

from api import telemetry
from api.security.auth import AgentPrincipal, require_agent
from api.security.crypto import decrypt_secret
from api.services.ingest import Poster, ingest
from api.state import State
from probes.contract import (
    IngestReport,
    Lease,
    LeaseRequest,
    ReleaseReport,
    ReleaseRequest,
    ResultBatch,
)
from store import agents, runs

router = APIRouter(prefix="/v1/agent", tags=["agents"])
log = logging.getLogger(__name__)

Agent = Annotated[AgentPrincipal, Depends(require_agent)]


@router.post("/lease", response_model=Lease)
async def lease(body: LeaseRequest, agent: Agent, st: State) -> Lease:
    """Lease up to ``max_runs`` due runs at the agent's location (none is fine); the
    agent's version and spool backlog, when it says them, are kept for the console."""
    if body.location != agent.location:
        raise HTTPException(
            409, f"this agent token belongs to location {agent.location!r}, not {body.location!r}"
        )
    settings = st.settings
    started = time.perf_counter()
    # The lease is one statement, atomic on its own: no BEGIN/COMMIT round trips.
    async with st.statement() as conn:
        rows = await runs.lease_runs(
            conn,
            location_id=agent.location_id,
            agent_id=agent.agent_id,
            limit=body.max_runs,
            grace_s=settings.lease_grace_s,
        )
        if body.agent_version is not None or body.spool_backlog is not None:
            await agents.report(
                conn, agent.agent_id, version=body.agent_version, spool_backlog=body.spool_backlog
            )
    telemetry.LEASE_SECONDS.observe(time.perf_counter() - started)
    telemetry.RUNS_LEASED.inc(len(rows))
    leased = [
        row.run
        if row.sealed_secret is None
        else row.run.model_copy(update={"secret": decrypt_secret(settings, row.sealed_secret)})
        for row in rows
    ]
    return Lease(location=agent.location, runs=leased, poll_after_s=settings.agent_poll_s)


@router.post("/results", response_model=IngestReport)
async def post_results(body: ResultBatch, agent: Agent, st: State) -> IngestReport:
    """Store results of runs leased to this agent that started within their lease;
    re-posting a stored result is a counted no-op, anything else is refused with a reason."""
    poster = Poster(
        agent_id=agent.agent_id,
        project_id=agent.project_id,
        location_id=agent.location_id,
        location=agent.location,
    )
    skew_s = st.settings.result_clock_skew_s
    ingested = await ingest(st.pool, st.judging, poster, body.results, skew_s=skew_s)
    for refused in ingested.report.refused:
        run_id = None if refused.run_id is None else str(refused.run_id)
        log.info("result refused: %s", refused.reason, extra={"run_id": run_id})
    return ingested.report


@router.post("/release", response_model=ReleaseReport)
async def release(body: ReleaseRequest, agent: Agent, st: State) -> ReleaseReport:
    """Hand back runs this agent leased and will not finish (it is stopping): their leases
    expire now, so another agent of the location leases them at its next poll. Runs that
    are not this agent's, or are complete, are left alone."""
    holder = runs.Holder(
        project_id=agent.project_id, location_id=agent.location_id, agent_id=agent.agent_id
    )
    async with st.statement() as conn:
        released = await runs.release_runs(conn, body.run_ids, holder)
    return ReleaseReport(released=released)
