"""Locations agents serve."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from api.schemas.common import (
    InputModel,
    LocationName,
)


class LocationCreate(InputModel):
    """A new location: lower-case letters, digits, ``-`` and ``_``."""

    name: LocationName


class LocationOut(BaseModel):
    """A place agents run probes from."""

    id: uuid.UUID
    name: str
    created_at: datetime
