"""Probe health: current states with reasons (transitions and incidents are answered
as stored: :class:`thresholds.transitions.StateTransition`, :class:`store.health.Incident`)."""

from __future__ import annotations

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
