"""Locations and agents: create a location, create an agent there (its token shown once,
with a start command ready to paste), revoke one; each agent's last contact, version,
runs per minute, spool backlog and whether it is online."""

from __future__ import annotations

import shlex
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.cli.agent_command import AGENT_TOKEN_ENV
from api.console import forms, render
from api.console.forms import Problems
from api.console.session import Form, Member, Seat, editor
from api.routes import agents as api_agents
from api.routes import locations as api_locations
from api.schemas.agents import AgentCreate, AgentCreated
from api.schemas.locations import LocationCreate
from api.services import fleet
from api.settings import Settings
from api.state import of as state_of
from store import locations

router = APIRouter(prefix="/console/p/{project_id}/agents", include_in_schema=False)


@router.get("", response_class=HTMLResponse)
async def agents_page(request: Request, seat: Member) -> Response:
    return await _show(request, seat)


@router.post("/locations", response_class=Response)
async def create_location(request: Request, seat: Member, posted: Form) -> Response:
    editor(seat)
    st, problems = state_of(request.app), Problems()
    body = forms.parse(LocationCreate, {"name": str(posted.get("name", "")).strip()}, problems)
    if body is not None:
        await forms.attempt(
            lambda: api_locations.create_location(body, seat.principal, st), problems
        )
    if problems:
        return await _show(request, seat, 422, location_problems=problems, posted=posted)
    return render.redirect(f"/console/p/{seat.project_id}/agents")


@router.post("", response_class=Response)
async def create_agent(request: Request, seat: Member, posted: Form) -> Response:
    """Register an agent; the answer is the page with its token, shown this once."""
    editor(seat)
    st, problems = state_of(request.app), Problems()
    data = {"name": str(posted.get("name", "")).strip(), "location": posted.get("location", "")}
    body = forms.parse(AgentCreate, data, problems)
    made = None
    if body is not None:
        made = await forms.attempt(
            lambda: api_agents.create_agent(body, seat.principal, st), problems
        )
    if made is None:
        return await _show(request, seat, 422, agent_problems=problems, posted=posted)
    return await _show(request, seat, 201, created=made, start=start_commands(st.settings, made))


@router.post("/{agent_id}/revoke", response_class=Response)
async def revoke_agent(
    request: Request, agent_id: uuid.UUID, seat: Member, posted: Form
) -> Response:
    editor(seat)
    st, problems = state_of(request.app), Problems()
    await forms.attempt(lambda: api_agents.revoke_agent(agent_id, seat.principal, st), problems)
    if problems:
        return await _show(request, seat, 409, agent_problems=problems)
    return render.redirect(f"/console/p/{seat.project_id}/agents")


def start_commands(settings: Settings, agent: AgentCreated) -> dict[str, str]:
    """How to start the agent: the token in the environment or in a file, never in argv
    (``callprobe agent`` refuses it there)."""
    flags = f"--api {shlex.quote(settings.public_url)} --location {shlex.quote(agent.location)}"
    return {
        "env": f"{AGENT_TOKEN_ENV}={shlex.quote(agent.token)} callprobe agent {flags}",
        "file": f"callprobe agent {flags} --token-file /etc/callprobe/agent-token",
    }


async def _show(request: Request, seat: Seat, status: int = 200, **context: Any) -> Response:
    st = state_of(request.app)
    async with st.transaction() as conn:
        places = await locations.list_locations(conn, seat.project_id)
        agents = await fleet.fleet(conn, st.settings, seat.project_id, datetime.now(UTC))
    return render.page(
        request,
        "agents.html.j2",
        status,
        seat=seat,
        section="Locations & agents",
        locations=places,
        agents=agents,
        rule=fleet.rule(st.settings),
        location_problems=context.pop("location_problems", Problems()),
        agent_problems=context.pop("agent_problems", Problems()),
        posted=context.pop("posted", {}),
        **context,
    )
