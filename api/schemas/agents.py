"""Agents and their tokens."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from api.schemas.common import (
    InputModel,
    LocationName,
    Name,
)


class AgentCreate(InputModel):
    """A new agent at an existing location."""

    name: Name
    location: LocationName


class AgentOut(BaseModel):
    """An agent as listed; ``prefix`` identifies its token."""

    id: uuid.UUID
    name: str
    location: str
    prefix: str
    created_at: datetime
    last_seen: datetime | None
    revoked_at: datetime | None
    version: str | None = None
    spool_backlog: int | None = None


class AgentCreated(AgentOut):
    """A new agent with its token: shown once, configure the agent with it now."""

    token: str
