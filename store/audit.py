"""Repository of the audit log: every change made through the console, the API or the
CLI, with who, what, when, and the settings before and after."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from store.pool import AsyncConn
from store.rows import fetch_all


@dataclass(frozen=True, kw_only=True, slots=True)
class Entry:
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


_RECORD = """
INSERT INTO audit_log (project_id, actor, via, action, target_type, target_id, before, after)
VALUES (%(project)s, %(actor)s, %(via)s, %(action)s, %(type)s, %(id)s, %(before)s, %(after)s)
"""
_LIST = """
SELECT id, at, actor, via, action, target_type, target_id, before, after FROM audit_log
WHERE project_id = %(project)s AND (%(before_id)s::bigint IS NULL OR id < %(before_id)s)
ORDER BY id DESC LIMIT %(limit)s
"""


async def record(
    conn: AsyncConn,
    project_id: uuid.UUID | None,
    *,
    actor: str,
    via: str,
    action: str,
    target_type: str,
    target_id: str | None = None,
    before: Any = None,
    after: Any = None,
) -> None:
    """One change, in the transaction that makes it (so it is logged if and only if it
    happened)."""
    params = {
        "project": project_id,
        "actor": actor,
        "via": via,
        "action": action,
        "type": target_type,
        "id": target_id,
        "before": None if before is None else Jsonb(before),
        "after": None if after is None else Jsonb(after),
    }
    await conn.execute(_RECORD, params)


async def entries(
    conn: AsyncConn, project_id: uuid.UUID, *, before_id: int | None, limit: int
) -> list[Entry]:
    """The project's log, newest first; ``before_id`` pages back."""
    params = {"project": project_id, "before_id": before_id, "limit": limit}
    return await fetch_all(conn, Entry, _LIST, params)
