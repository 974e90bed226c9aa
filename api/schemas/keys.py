"""API keys of a project."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from api.schemas.common import (
    InputModel,
    Name,
    Scope,
)


class KeyCreate(InputModel):
    """A new API key: ``read`` sees everything, ``write`` also changes it."""

    name: Name
    scope: Scope = "read"


class KeyOut(BaseModel):
    """An API key as listed; ``prefix`` identifies it."""

    id: uuid.UUID
    name: str
    scope: Scope
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class KeyCreated(KeyOut):
    """A new key with its token: shown once, store it now."""

    token: str
