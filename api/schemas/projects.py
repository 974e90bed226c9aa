"""Projects (tenants)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from api.schemas.common import (
    InputModel,
    Name,
)
from api.schemas.keys import KeyCreated


class ProjectCreate(InputModel):
    """A new tenant."""

    name: Name


class ProjectOut(BaseModel):
    """A tenant."""

    id: uuid.UUID
    name: str
    created_at: datetime


class ProjectCreated(BaseModel):
    """A new project with its first write key (shown once)."""

    project: ProjectOut
    key: KeyCreated
