"""Repository of agents: one credential per agent, bound to a project and a location."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from psycopg.rows import class_row

from store.errors import NotFound
from store.pool import AsyncConn


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
    async with conn.cursor(row_factory=class_row(Agent)) as cur:
        await cur.execute(_INSERT, params)
        row = await cur.fetchone()
    assert row is not None
    return row


async def list_agents(conn: AsyncConn, project_id: uuid.UUID) -> list[Agent]:
    """The project's agents, revoked ones included, oldest first."""
    async with conn.cursor(row_factory=class_row(Agent)) as cur:
        await cur.execute(_LIST, (project_id,))
        return await cur.fetchall()


async def revoke_agent(conn: AsyncConn, project_id: uuid.UUID, agent_id: uuid.UUID) -> Agent:
    """Revoke an agent of the project (idempotent), or :class:`NotFound`."""
    async with conn.cursor(row_factory=class_row(Agent)) as cur:
        await cur.execute(_REVOKE, (project_id, agent_id))
        row = await cur.fetchone()
    if row is None:
        raise NotFound("agent not found")
    return row


async def agent_by_hash(conn: AsyncConn, token_hash: bytes) -> AgentOwner | None:
    """The unrevoked agent with this token hash, if any."""
    async with conn.cursor(row_factory=class_row(AgentOwner)) as cur:
        await cur.execute(_BY_HASH, (token_hash,))
        return await cur.fetchone()


async def touch_agent(conn: AsyncConn, agent_id: uuid.UUID) -> None:
    """Record that the agent was just seen."""
    await conn.execute(_TOUCH, (agent_id,))
