"""Agents of the caller's project: one token per agent, bound to a location."""

from __future__ import annotations

import uuid
from dataclasses import asdict

from fastapi import APIRouter, Response

from api.errors import invalid
from api.schemas.agents import AgentCreate, AgentCreated, AgentOut
from api.security.auth import Reader, Writer, issue_agent_token
from api.services import audit
from api.services.snapshots import settings
from api.state import State
from store import agents, locations, quotas

router = APIRouter(prefix="/v1/agents", tags=["agents"])


@router.get("", response_model=list[AgentOut])
async def list_agents(principal: Reader, st: State) -> list[agents.Agent]:
    """The project's agents (token prefixes only), revoked ones included."""
    async with st.transaction() as conn:
        return await agents.list_agents(conn, principal.project_id)


@router.post("", status_code=201, response_model=AgentCreated)
async def create_agent(body: AgentCreate, principal: Writer, st: State) -> AgentCreated:
    """Register an agent at an existing location (409 ``quota_exceeded`` past the
    project's quota of unrevoked agents); its token is in this response only."""
    async with st.transaction() as conn:
        limit = st.settings.max_agents_per_project
        await quotas.claim(conn, principal.project_id, "agents", limit)
        found = await locations.location_ids(conn, principal.project_id, [body.location])
        if body.location not in found:
            raise invalid(("body", "location"), f"unknown location {body.location!r}")
        agent, token = await issue_agent_token(
            conn, principal.project_id, found[body.location], body.name
        )
        await audit.record(conn, principal, "create", "agent", agent.id, after=_shown(agent))
    return AgentCreated.model_validate({**asdict(agent), "token": token})


@router.delete("/{agent_id}", status_code=204, response_class=Response)
async def revoke_agent(agent_id: uuid.UUID, principal: Writer, st: State) -> None:
    """Revoke an agent's token at once."""
    async with st.transaction() as conn:
        agent = await agents.revoke_agent(conn, principal.project_id, agent_id)
        await audit.record(conn, principal, "revoke", "agent", agent_id, after=_shown(agent))


def _shown(agent: agents.Agent) -> dict[str, object]:
    return settings(agent, only=("name", "location", "prefix", "revoked_at"))
