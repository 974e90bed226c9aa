"""Health routes: a probe's current state with reasons, its transitions, incidents; push."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from api import telemetry
from api.errors import ErrorBody
from api.security.auth import (
    Principal,
    count_failure,
    hash_token,
    push_token,
    refuse_failing_client,
    require_read,
)
from api.state import of as state_of
from probes.result import CallResult, Outcome
from store import health, results
from store.pool import AsyncConn, transaction

router = APIRouter(prefix="/v1", tags=["health"])

Reader = Annotated[Principal, Depends(require_read)]


class LocationHealth(BaseModel):
    """A probe's state at one location ('' = the probe as a whole) and why."""

    location: str
    state: str
    since: datetime
    evaluated_at: datetime
    reasons: list[dict[str, Any]]


class TransitionOut(BaseModel):
    """One change of a probe's overall state."""

    at: datetime
    from_state: str
    to_state: str
    reasons: list[dict[str, Any]]


class IncidentOut(BaseModel):
    """A period when a probe was not healthy (``resolved_at`` null while open)."""

    id: uuid.UUID
    probe_id: uuid.UUID
    opened_at: datetime
    resolved_at: datetime | None
    worst_state: str
    cause: str


class PushReport(BaseModel):
    """What a push reporter may say about its host (Crisp's load), ratios 0..1."""

    cpu: float | None = Field(default=None, ge=0, le=64)
    ram: float | None = Field(default=None, ge=0, le=1)


class PushAccepted(BaseModel):
    """A push was recorded."""

    accepted: bool = True


async def _owned(request: Request, principal: Principal, probe_id: uuid.UUID) -> None:
    async with transaction(state_of(request.app).pool) as conn:
        if not await health.probe_in_project(conn, principal.project_id, probe_id):
            raise HTTPException(404, "probe not found")


@router.get("/probes/{probe_id}/health", response_model=list[LocationHealth])
async def probe_health(
    probe_id: uuid.UUID, principal: Reader, request: Request
) -> list[LocationHealth]:
    """The probe's overall state ('' location) and each location's, with deciding reasons."""
    await _owned(request, principal, probe_id)
    async with transaction(state_of(request.app).pool) as conn:
        rows = await health.health_rows(conn, [probe_id])
    return [
        LocationHealth(
            location=r.location,
            state=r.state,
            since=r.since,
            evaluated_at=r.evaluated_at,
            reasons=r.reasons,
        )
        for r in sorted(rows, key=lambda r: r.location)
    ]


@router.get("/probes/{probe_id}/transitions", response_model=list[TransitionOut])
async def probe_transitions(
    probe_id: uuid.UUID,
    principal: Reader,
    request: Request,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[TransitionOut]:
    """State changes in [start, end) (default: the last 30 days), oldest first."""
    await _owned(request, principal, probe_id)
    end = end or datetime.now(UTC)
    start = start or end - timedelta(days=30)
    if start >= end:
        raise HTTPException(422, "start must be before end")
    async with transaction(state_of(request.app).pool) as conn:
        rows = await health.transitions(conn, probe_id, start, end)
    return [
        TransitionOut(at=r.at, from_state=r.from_state, to_state=r.to_state, reasons=r.reasons)
        for r in rows
    ]


@router.get("/incidents", response_model=list[IncidentOut])
async def list_incidents(
    principal: Reader,
    request: Request,
    probe_id: uuid.UUID | None = None,
    open_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[IncidentOut]:
    """The project's incidents, newest first."""
    async with transaction(state_of(request.app).pool) as conn:
        rows = await health.incidents(
            conn, principal.project_id, probe_id=probe_id, open_only=open_only, limit=limit
        )
    return [IncidentOut.model_validate(r, from_attributes=True) for r in rows]


PUSH_RESPONSES: dict[int | str, dict[str, Any]] = {
    429: {"model": ErrorBody, "description": "Too many reports for this token"}
}


@router.post("/push", response_model=PushAccepted, status_code=202, responses=PUSH_RESPONSES)
async def push(
    token: Annotated[str, Depends(push_token)],
    request: Request,
    report: Annotated[PushReport | None, Body()] = None,
) -> PushAccepted:
    """Crisp's push mode: the application says it is alive, optionally with its load.
    The token goes in ``Authorization: Bearer cpp_…``."""
    return await _push(request, token, report or PushReport())


@router.post(
    "/push/{token}", response_model=PushAccepted, status_code=202, responses=PUSH_RESPONSES
)
async def push_in_path(
    token: str, request: Request, report: Annotated[PushReport | None, Body()] = None
) -> PushAccepted:
    """The same for reporters that cannot set a header (the access log redacts the token)."""
    return await _push(request, token, report or PushReport())


async def _push(request: Request, token: str, report: PushReport) -> PushAccepted:
    client = await refuse_failing_client(request)
    token_hash = hash_token(token)
    await state_of(request.app).push_limiter.check(token_hash.hex())
    async with transaction(state_of(request.app).pool) as conn:
        found = await health.probe_for_push_token(conn, token_hash)
        if found is not None:
            await _record(conn, *found, report)
    if found is None:
        await count_failure(request, client)
        raise HTTPException(404, "unknown push token")
    telemetry.RESULTS_INGESTED.inc()
    state_of(request.app).evaluator.mark([found[0]])
    return PushAccepted()


async def _record(
    conn: AsyncConn, probe_id: uuid.UUID, project_id: uuid.UUID, report: PushReport
) -> None:
    result = CallResult(
        kind="push",
        probe="push",
        probe_id=probe_id,
        target="",
        location="push",
        outcome=Outcome.OK,
        load_cpu=report.cpu,
        load_ram=report.ram,
    )
    await results.insert_results(conn, [result], project_id)
    await results.add_to_rollups(conn, [result.run_id])
