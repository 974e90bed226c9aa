"""Scheduled maintenance windows."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Self

from pydantic import BaseModel, model_validator

from api.schemas.common import (
    InputModel,
    Moment,
    Name,
)


class MaintenanceCreate(InputModel):
    """Planned work: for one probe, one page, or (neither) the whole project."""

    title: Name
    starts_at: Moment
    ends_at: Moment
    probe_id: uuid.UUID | None = None
    page_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class MaintenanceOut(BaseModel):
    """A maintenance window."""

    id: uuid.UUID
    probe_id: uuid.UUID | None
    page_id: uuid.UUID | None
    title: str
    starts_at: datetime
    ends_at: datetime
    created_at: datetime
