"""Health routes: a probe's current state with reasons, its transitions, incidents."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query

from api.schemas.health import LocationHealth
from api.security.auth import Principal, require_read
from api.state import AppState, State
from store import health
from thresholds.transitions import StateTransition

router = APIRouter(prefix="/v1", tags=["health"])

Reader = Annotated[Principal, Depends(require_read)]


async def _owned(st: AppState, principal: Principal, probe_id: uuid.UUID) -> None:
    async with st.transaction() as conn:
        if not await health.probe_in_project(conn, principal.project_id, probe_id):
            raise HTTPException(404, "probe not found")


@router.get("/probes/{probe_id}/health", response_model=list[LocationHealth])
async def probe_health(probe_id: uuid.UUID, principal: Reader, st: State) -> list[health.HealthRow]:
    """The probe's overall state ('' location) and each location's, with deciding reasons."""
    await _owned(st, principal, probe_id)
    async with st.transaction() as conn:
        rows = await health.health_rows(conn, [probe_id])
    return sorted(rows, key=lambda r: r.location)


@router.get("/probes/{probe_id}/transitions", response_model=list[StateTransition])
async def probe_transitions(
    probe_id: uuid.UUID,
    principal: Reader,
    st: State,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[StateTransition]:
    """State changes in [start, end) (default: the last 30 days), oldest first."""
    await _owned(st, principal, probe_id)
    end = end or datetime.now(UTC)
    start = start or end - timedelta(days=30)
    if start >= end:
        raise HTTPException(422, "start must be before end")
    async with st.transaction() as conn:
        return await health.transitions(conn, probe_id, start, end)


@router.get("/incidents", response_model=list[health.Incident])
async def list_incidents(
    principal: Reader,
    st: State,
    probe_id: uuid.UUID | None = None,
    open_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[health.Incident]:
    """The project's incidents, newest first."""
    async with st.transaction() as conn:
        return await health.incidents(
            conn, principal.project_id, probe_id=probe_id, open_only=open_only, limit=limit
        )
