"""``/healthz`` (the process serves) and ``/readyz`` (send it traffic) for load balancers
and orchestrators: unauthenticated, never cached, not rate-limited, and left out of the
access log while they answer 200 (``api.middleware.access_log``).

``/readyz`` answers 503 with ``Retry-After`` and a reason while the process drains for
shutdown, when the database does not answer within a second, or when its schema is not
the one this code ships (an older replica after a newer one migrated, for instance).
"""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.errors import RETRY_AFTER_S, ErrorBody, error_response
from api.state import AppState, State
from store.errors import DatabaseUnavailable
from store.migrate import schema_problem

router = APIRouter(tags=["operations"])

READY_TIMEOUT_S = 1.0


class Status(BaseModel):
    """The check passed."""

    status: Literal["ok", "ready"]


@router.get("/healthz", response_model=Status)
async def healthz() -> Status:
    """The process is up and serving (touches nothing else)."""
    return Status(status="ok")


@router.get(
    "/readyz", response_model=Status,
    responses={503: {"model": ErrorBody, "description": "Not ready: the reason says why"}},
)  # fmt: skip
async def readyz(st: State) -> Status | JSONResponse:
    """Ready for traffic: not draining, the database answers and its schema matches."""
    unready = await _unready(st)
    if unready is None:
        return Status(status="ready")
    code, reason = unready
    return error_response(503, reason, headers={"Retry-After": str(RETRY_AFTER_S)}, code=code)


async def _unready(st: AppState) -> tuple[str, str] | None:
    """``(code, reason)`` of why this process should get no traffic now, or None."""
    if st.draining:
        return "draining", "the process is shutting down"
    try:
        async with asyncio.timeout(READY_TIMEOUT_S), st.statement() as conn:
            problem = await schema_problem(conn)
    except (TimeoutError, DatabaseUnavailable):
        return "database_unavailable", f"the database did not answer within {READY_TIMEOUT_S:g} s"
    return None if problem is None else ("schema_mismatch", problem)
