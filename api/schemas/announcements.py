"""Request and response bodies of a status page's notices (pydantic)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, Field, model_validator

from api.schemas.common import InputModel, Moment, Name, no_nul


class AnnouncementCreate(InputModel):
    """A notice shown on the page from ``starts_at`` (default now) until ``ends_at``."""

    title: Name
    body: Annotated[str, Field(max_length=10000), AfterValidator(no_nul)] = ""
    starts_at: Moment | None = None
    ends_at: Moment | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class AnnouncementOut(BaseModel):
    """A posted notice."""

    id: uuid.UUID
    title: str
    body: str
    starts_at: datetime
    ends_at: datetime | None
    created_at: datetime
