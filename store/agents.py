"""Repository of agents: one credential per agent, bound to a project and a location."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from store.pool import AsyncConn
from store.rows import fetch_all, fetch_found, fetch_new, fetch_one


@dataclass(frozen=True, kw_only=True, slots=True)
class Agent:
    """An agent as listed (its token is never stored, only its hash)."""

    id: uuid.UUID
    project_id: uuid.UUID
    location_id: uuid.UUID
    location: str
    name: str
    prefix: str
    created_at: datetime
    last_seen: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, kw_only=True, slots=True)
class AgentOwner:
    """Who a presented, unrevoked agent token belongs to."""

    agent_id: uuid.UUID
    project_id: uuid.UUID
    location_id: uuid.UUID
    location: str
    last_seen: datetime | None


_SELECT = """
SELECT a.id, a.project_id, a.location_id, l.name AS location, a.name, a.prefix,
       a.created_at, a.last_seen, a.revoked_at
FROM agents a JOIN locations l ON l.id = a.location_id
"""
_INSERT = """
WITH a AS (
    INSERT INTO agents (project_id, location_id, name, prefix, token_hash)
    VALUES (%(project)s, %(location)s, %(name)s, %(prefix)s, %(hash)s)
    RETURNING *
)
SELECT a.id, a.project_id, a.location_id, l.name AS location, a.name, a.prefix,
       a.created_at, a.last_seen, a.revoked_at
FROM a JOIN locations l ON l.id = a.location_id
"""
_LIST = _SELECT + " WHERE a.project_id = %s ORDER BY a.created_at, a.id"
_REVOKE = """
WITH a AS (
    UPDATE agents SET revoked_at = coalesce(revoked_at, now())
    WHERE project_id = %s AND id = %s
    RETURNING *
)
SELECT a.id, a.project_id, a.location_id, l.name AS location, a.name, a.prefix,
       a.created_at, a.last_seen, a.revoked_at
FROM a JOIN locations l ON l.id = a.location_id
"""
_BY_HASH = """
SELECT a.id AS agent_id, a.project_id, a.location_id, l.name AS location, a.last_seen
FROM agents a JOIN locations l ON l.id = a.location_id
WHERE a.token_hash = %s AND a.revoked_at IS NULL
"""
_TOUCH = "UPDATE agents SET last_seen = now() WHERE id = %s"


async def create_agent(
    conn: AsyncConn,
    *,
    project_id: uuid.UUID,
    location_id: uuid.UUID,
    name: str,
    prefix: str,
    token_hash: bytes,
) -> Agent:
    """Store a new agent at one of the project's locations."""
    params = {
        "project": project_id, "location": location_id, "name": name,
        "prefix": prefix, "hash": token_hash,
    }  # fmt: skip
    return await fetch_new(conn, Agent, _INSERT, params)


async def list_agents(conn: AsyncConn, project_id: uuid.UUID) -> list[Agent]:
    """The project's agents, revoked ones included, oldest first."""
    return await fetch_all(conn, Agent, _LIST, (project_id,))


async def revoke_agent(conn: AsyncConn, project_id: uuid.UUID, agent_id: uuid.UUID) -> Agent:
    """Revoke an agent of the project (idempotent), or :class:`NotFound`."""
    params = (project_id, agent_id)
    return await fetch_found(conn, Agent, _REVOKE, params, missing="agent not found")


async def agent_by_hash(conn: AsyncConn, token_hash: bytes) -> AgentOwner | None:
    """The unrevoked agent with this token hash, if any."""
    return await fetch_one(conn, AgentOwner, _BY_HASH, (token_hash,))


async def touch_agent(conn: AsyncConn, agent_id: uuid.UUID) -> None:
    """Record that the agent was just seen."""
    await conn.execute(_TOUCH, (agent_id,))
