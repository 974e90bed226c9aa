"""Probes: what to check, where and how often."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from api.schemas.common import (
    InputModel,
    Kind,
    LocationName,
    Name,
    Secret,
    Tags,
    Target,
)


class ProbePatch(InputModel):
    """Fields to change (the kind cannot change); ``secret: null`` removes the secret."""

    name: Name | None = None
    target: Target | None = None
    replicas: Annotated[list[Target], Field(max_length=20)] | None = None
    interval_s: Annotated[int, Field(ge=5, le=86400)] | None = None
    timeout_s: Annotated[float, Field(gt=0, le=600)] | None = None
    enabled: bool | None = None
    locations: Annotated[list[LocationName], Field(max_length=50)] | None = None
    options: dict[str, Any] | None = None
    policy: dict[str, Any] | None = None
    tags: Tags | None = None
    secret: Secret | None = Field(default=None, description="Write-only: never returned")


class ProbeCreate(InputModel):
    """A new probe: what to check, where from, how often, and how to judge it."""

    name: Name
    kind: Kind
    target: Target = ""
    replicas: Annotated[list[Target], Field(max_length=20)] = Field(default_factory=list)
    interval_s: Annotated[int, Field(ge=5, le=86400)] = 60
    timeout_s: Annotated[float, Field(gt=0, le=600)] = 30.0
    enabled: bool = True
    locations: Annotated[list[LocationName], Field(max_length=50)] = Field(default_factory=list)
    options: dict[str, Any] = Field(default_factory=dict)
    policy: dict[str, Any] = Field(default_factory=dict)
    tags: Tags = Field(default_factory=list)
    secret: Secret | None = Field(default=None, description="Write-only: never returned")


class ProbeOut(BaseModel):
    """A probe; its secret is never returned, only whether it has one."""

    id: uuid.UUID
    name: str
    kind: Kind
    target: str
    replicas: list[str]
    interval_s: int
    timeout_s: float
    enabled: bool
    locations: list[str]
    options: dict[str, Any]
    policy: dict[str, Any]
    tags: list[str]
    has_secret: bool
    created_at: datetime
    updated_at: datetime


class ProbeCreated(ProbeOut):
    """A new probe; a push probe's ``push_token`` is shown once."""

    push_token: str | None = None


class RunQueued(BaseModel):
    """A one-off run made due now at ``locations`` locations (each runs every target)."""

    probe_id: uuid.UUID
    locations: int
