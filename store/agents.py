"""Repository of agents: one credential per agent, bound to a project and a location."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
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
    version: str | None
    spool_backlog: int | None


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
       a.created_at, a.last_seen, a.revoked_at, a.version, a.spool_backlog
FROM agents a JOIN locations l ON l.id = a.location_id
"""
_INSERT = """
WITH a AS (
    INSERT INTO agents (project_id, location_id, name, prefix, token_hash)
    VALUES (%(project)s, %(location)s, %(name)s, %(prefix)s, %(hash)s)
    RETURNING *
)
SELECT a.id, a.project_id, a.location_id, l.name AS location, a.name, a.prefix,
       a.created_at, a.last_seen, a.revoked_at, a.version, a.spool_backlog
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
       a.created_at, a.last_seen, a.revoked_at, a.version, a.spool_backlog
FROM a JOIN locations l ON l.id = a.location_id
"""
_BY_HASH = """
SELECT a.id AS agent_id, a.project_id, a.location_id, l.name AS location, a.last_seen
FROM agents a JOIN locations l ON l.id = a.location_id
WHERE a.token_hash = %s AND a.revoked_at IS NULL
"""
_TOUCH = "UPDATE agents SET last_seen = now() WHERE id = %s"
_REPORT = """
UPDATE agents SET version = %(version)s, spool_backlog = %(backlog)s
WHERE id = %(id)s
  AND (version IS DISTINCT FROM %(version)s OR spool_backlog IS DISTINCT FROM %(backlog)s)
"""
_RATES = """
SELECT leased_by AS agent_id, count(*)::float / %(minutes)s AS per_minute
FROM runs
WHERE leased_by = ANY(%(agents)s) AND leased_at > now() - make_interval(mins => %(minutes)s)
  AND completed_at IS NOT NULL
GROUP BY leased_by
"""


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


async def report(
    conn: AsyncConn, agent_id: uuid.UUID, *, version: str | None, spool_backlog: int | None
) -> None:
    """Keep what the agent said of itself when it leased (written only when it changed)."""
    params = {"id": agent_id, "version": version, "backlog": spool_backlog}
    await conn.execute(_REPORT, params)


async def runs_per_minute(
    conn: AsyncConn, agent_ids: Sequence[uuid.UUID], minutes: int = 5
) -> dict[uuid.UUID, float]:
    """Each agent's completed runs leased in the last ``minutes``, per minute (absent: 0)."""
    params = {"agents": list(agent_ids), "minutes": minutes}
    rows = await (await conn.execute(_RATES, params)).fetchall()
    return {row[0]: float(row[1]) for row in rows}
