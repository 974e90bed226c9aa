"""The overview: every probe with its state, latest measurements and a 24-hour MOS
sparkline, open incidents, and the project's agents online or offline; the page
refreshes its regions by itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.console import render
from api.console.session import Member, Signed
from api.console.sparkline import sparkline
from api.services import fleet
from api.state import of as state_of
from store import console_reads, health, probe_metrics

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/projects", response_class=HTMLResponse)
async def projects_page(request: Request, who: Signed) -> Response:
    """The visitor's projects (or a note that they have none yet)."""
    return render.page(request, "projects.html.j2", who=who)


@router.get("/p/{project_id}", response_class=HTMLResponse)
async def overview(request: Request, seat: Member) -> Response:
    st = state_of(request.app)
    now = datetime.now(UTC)
    async with st.transaction() as conn:
        probes = await probe_metrics.latest(conn, seat.project_id)
        hourly = await console_reads.hourly_mos(conn, seat.project_id, now - timedelta(hours=24))
        incidents = await health.incidents(conn, seat.project_id, open_only=True)
        agents = await fleet.fleet(conn, st.settings, seat.project_id, now)
    lines = {probe_id: sparkline(values, now) for probe_id, values in hourly.items()}
    names = {probe.probe_id: probe.name for probe in probes}
    return render.page(
        request,
        "overview.html.j2",
        seat=seat,
        section="Overview",
        probes=probes,
        sparklines=lines,
        names=names,
        incidents=incidents,
        agents=[view for view in agents if view.agent.revoked_at is None],
    )
