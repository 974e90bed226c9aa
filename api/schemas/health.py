"""Probe health: current states with reasons, transitions, incidents."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel


class LocationHealth(BaseModel):
    """A probe's state at one location ('' = the probe as a whole) and why."""

    location: str
    state: str
    since: datetime
    evaluated_at: datetime
    reasons: list[dict[str, Any]]


class TransitionOut(BaseModel):
    """One change of a probe's overall state."""

    at: datetime
    from_state: str
    to_state: str
    reasons: list[dict[str, Any]]


class IncidentOut(BaseModel):
    """A period when a probe was not healthy (``resolved_at`` null while open)."""

    id: uuid.UUID
    probe_id: uuid.UUID
    opened_at: datetime
    resolved_at: datetime | None
    worst_state: str
    cause: str
