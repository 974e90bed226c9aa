"""Scheduled maintenance windows: what an operator plans (a window is answered as
stored, :class:`store.maintenance.MaintenanceWindow`)."""

from __future__ import annotations

import uuid
from typing import Self

from pydantic import model_validator

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
