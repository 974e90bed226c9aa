"""The audit log: every change made through the console, the API or the CLI."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class AuditEntryOut(BaseModel):
    """One change: who (a user's email, or an API key's name and prefix) and through
    what, which action on which target, when, and the settings before and after
    (secrets are never in them)."""

    id: int
    at: datetime
    actor: str
    via: str
    action: str
    target_type: str
    target_id: str | None
    before: Any
    after: Any
