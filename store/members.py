"""Locks and listings around memberships: the owners of a project (locked, so two owners
cannot demote each other at once and leave none), the first-run lock, pending
invitations, and ending every session of an account."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from store.pool import AsyncConn
from store.rows import fetch_all

_LOCK_OWNERS = (
    "SELECT user_id FROM memberships WHERE project_id = %(project)s AND role = 'owner'"
    " ORDER BY user_id FOR UPDATE"
)
_FIRST_RUN = "SELECT pg_advisory_xact_lock(hashtext('callprobe first run'))"
_END_ALL = "DELETE FROM sessions WHERE user_id = %(user)s"
_PENDING = """
SELECT i.email, i.role, i.created_at, i.expires_at, u.email AS invited_by
FROM invitations i LEFT JOIN users u ON u.id = i.invited_by
WHERE i.project_id = %(project)s AND i.used_at IS NULL AND i.expires_at > %(now)s
ORDER BY i.created_at DESC
"""


@dataclass(frozen=True, kw_only=True, slots=True)
class PendingInvitation:
    email: str
    role: str
    created_at: datetime
    expires_at: datetime
    invited_by: str | None


async def lock_owners(conn: AsyncConn, project_id: uuid.UUID) -> list[uuid.UUID]:
    """The project's owners, their rows locked until the transaction ends."""
    rows = await (await conn.execute(_LOCK_OWNERS, {"project": project_id})).fetchall()
    return [row[0] for row in rows]


async def lock_first_run(conn: AsyncConn) -> None:
    """Serialise the making of the first account (the browser's first run, the CLI)."""
    await conn.execute(_FIRST_RUN)


async def end_all_sessions(conn: AsyncConn, user_id: uuid.UUID) -> None:
    await conn.execute(_END_ALL, {"user": user_id})


async def pending_invitations(
    conn: AsyncConn, project_id: uuid.UUID, now: datetime
) -> list[PendingInvitation]:
    """Invitations of the project not used yet and not expired, newest first."""
    params = {"project": project_id, "now": now}
    return await fetch_all(conn, PendingInvitation, _PENDING, params)
