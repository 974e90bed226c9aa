"""Threshold rules per probe and metric."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from api.schemas.common import (
    Bound,
    InputModel,
)


class Bounds(InputModel):
    """A warning bound (→ degraded) and/or a critical one (→ unhealthy)."""

    warning: Bound | None = None
    critical: Bound | None = None


class ThresholdCreate(Bounds):
    """A new rule on one metric of a probe."""

    metric: Annotated[str, Field(max_length=100)]


class ThresholdOut(BaseModel):
    """A probe's rule on one metric."""

    metric: str
    warning: float | None
    critical: float | None
    created_at: datetime
