"""The project's agents as the console shows them: online or offline, and how busy.

An agent is offline when it has not been seen for longer than ``agent_poll_s`` times 3
(it polls every ``agent_poll_s`` when idle) plus :data:`TOUCH_EVERY`, since ``last_seen``
is written at most that often per agent. Runs per minute count the runs leased to it in
the last five minutes that have completed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from api.security.auth import TOUCH_EVERY
from api.settings import Settings
from store import agents
from store.pool import AsyncConn

MISSED_POLLS = 3
RATE_MINUTES = 5


@dataclass(frozen=True, kw_only=True, slots=True)
class AgentView:
    """An agent with what its row says and what is derived from it."""

    agent: agents.Agent
    online: bool
    runs_per_minute: float

    @property
    def id(self) -> uuid.UUID:
        return self.agent.id


def offline_after(settings: Settings) -> timedelta:
    """How long an agent may be silent before it is shown offline."""
    return timedelta(seconds=settings.agent_poll_s * MISSED_POLLS) + TOUCH_EVERY


def rule(settings: Settings) -> str:
    """The offline rule in words, for the page."""
    seconds = offline_after(settings).total_seconds()
    return (
        f"An agent is offline when it has not been seen for {seconds:g} s: its poll interval"
        f" ({settings.agent_poll_s:g} s) times {MISSED_POLLS}, plus {TOUCH_EVERY.seconds} s because"
        " when it was last seen is written at most that often."
    )


async def fleet(
    conn: AsyncConn, settings: Settings, project_id: uuid.UUID, now: datetime
) -> list[AgentView]:
    """The project's agents, oldest first, revoked ones included."""
    rows = await agents.list_agents(conn, project_id)
    rates = await agents.runs_per_minute(conn, [row.id for row in rows], RATE_MINUTES)
    limit = offline_after(settings)
    return [
        AgentView(
            agent=row,
            online=row.revoked_at is None
            and row.last_seen is not None
            and now - row.last_seen <= limit,
            runs_per_minute=rates.get(row.id, 0.0),
        )
        for row in rows
    ]
