"""Projects (tenants)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from api.schemas.common import (
    InputModel,
    Name,
)
from api.schemas.keys import KeyCreated


class ProjectCreate(InputModel):
    """A new tenant."""

    name: Name


class ProjectUpdate(InputModel):
    """Retention: raw results (and runs, finished notification deliveries) for
    ``raw_retention_days``; the hourly rollups that status page bars and SLA read for
    ``rollup_retention_days``, at least 90 so the 90-day bars keep their data."""

    raw_retention_days: int | None = Field(default=None, ge=1, le=3650)
    rollup_retention_days: int | None = Field(default=None, ge=90, le=3650)


class ProjectOut(BaseModel):
    """A tenant."""

    id: uuid.UUID
    name: str
    created_at: datetime
    raw_retention_days: int
    rollup_retention_days: int


class ProjectCreated(BaseModel):
    """A new project with its first write key (shown once)."""

    project: ProjectOut
    key: KeyCreated
