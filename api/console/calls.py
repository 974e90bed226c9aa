"""The per-call page: every stored metric of one result, its outcome and SIP details,
the E-model breakdown in words and the call's timeline. Read-only."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.console import call_view, render
from api.console.probe_detail import probe_or_404
from api.console.session import Member, Refused
from api.state import of as state_of
from store import console_reads

router = APIRouter(prefix="/console/p/{project_id}/probes", include_in_schema=False)


@router.get("/{probe_id:uuid}/calls/{run_id}", response_class=HTMLResponse)
async def call_page(request: Request, seat: Member, probe_id: uuid.UUID, run_id: str) -> Response:
    try:
        run = uuid.UUID(run_id)
    except ValueError:
        raise Refused(404, "no such call of this probe") from None
    async with state_of(request.app).transaction() as conn:
        probe = await probe_or_404(conn, seat.project_id, probe_id)
        result = await console_reads.call_result(conn, seat.project_id, probe_id, run)
    if result is None:
        raise Refused(404, "no such call of this probe")
    return render.page(
        request,
        "call.html.j2",
        seat=seat,
        section="Probes",
        probe=probe,
        result=result,
        outcome_sentence=call_view.outcome_sentence(result),
        no_score=call_view.no_score_reason(result),
        emodel=call_view.emodel_words(result),
        emodel_start=call_view.emodel_start(result),
        measures=call_view.measures(result),
        timeline=call_view.timeline(result),
        back=f"/console/p/{seat.project_id}/probes/{probe_id}",
    )
