"""Push reports: what a push reporter sends and what it gets back."""

from __future__ import annotations

from pydantic import BaseModel, Field


class PushReport(BaseModel):
    """What a push reporter may say about its host (Crisp's load), ratios 0..1."""

    cpu: float | None = Field(default=None, ge=0, le=64)
    ram: float | None = Field(default=None, ge=0, le=1)


class PushAccepted(BaseModel):
    """A push was recorded."""

    accepted: bool = True
