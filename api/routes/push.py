"""Push routes (Crisp's push mode): a reporter says it is alive, optionally with its load."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request

from api.errors import ErrorBody
from api.schemas.push import PushAccepted, PushReport
from api.security.auth import count_failure, hash_token, push_token, refuse_failing_client
from api.services import ingest
from api.state import State

router = APIRouter(prefix="/v1", tags=["health"])

PUSH_RESPONSES: dict[int | str, dict[str, Any]] = {
    429: {"model": ErrorBody, "description": "Too many reports for this token"}
}


@router.post("/push", response_model=PushAccepted, status_code=202, responses=PUSH_RESPONSES)
async def push(
    token: Annotated[str, Depends(push_token)],
    request: Request,
    st: State,
    report: Annotated[PushReport | None, Body()] = None,
) -> PushAccepted:
    """Crisp's push mode: the application says it is alive, optionally with its load.
    The token goes in ``Authorization: Bearer cpp_…``."""
    return await _push(request, st, token, report or PushReport())


@router.post(
    "/push/{token}", response_model=PushAccepted, status_code=202, responses=PUSH_RESPONSES
)
async def push_in_path(
    token: str, request: Request, st: State, report: Annotated[PushReport | None, Body()] = None
) -> PushAccepted:
    """The same for reporters that cannot set a header (the access log redacts the token)."""
    return await _push(request, st, token, report or PushReport())


async def _push(request: Request, st: State, token: str, report: PushReport) -> PushAccepted:
    client = await refuse_failing_client(request)
    token_hash = hash_token(token)
    await st.push_limiter.check(token_hash.hex())
    if not await ingest.push(st.pool, st.judging, token_hash, cpu=report.cpu, ram=report.ram):
        await count_failure(request, client)
        raise HTTPException(404, "unknown push token")
    return PushAccepted()
