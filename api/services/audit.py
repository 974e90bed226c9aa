"""The audit log as routes write it: one entry per change, in the change's transaction,
naming the caller (an API key or a console user) and what changed."""

from __future__ import annotations

import uuid
from typing import Any

from api.security.auth import Principal
from store import audit
from store.pool import AsyncConn


async def record(
    conn: AsyncConn,
    principal: Principal,
    action: str,
    target_type: str,
    target_id: uuid.UUID | str | None = None,
    *,
    before: Any = None,
    after: Any = None,
) -> None:
    """Log ``action`` (create, update, delete, ...) on a target by ``principal``;
    ``before``/``after`` are JSON-ready settings (secrets left out by the caller)."""
    await audit.record(
        conn,
        principal.project_id,
        actor=principal.actor or "API key",
        via=principal.via,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        before=before,
        after=after,
    )
