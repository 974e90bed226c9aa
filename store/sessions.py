"""Repository of console sessions: only a SHA-256 of the cookie is stored.

A session is valid until its absolute ``expires_at`` and while it was seen within the
idle limit; each use moves ``last_seen_at`` (at most once a minute, to spare writes).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from store.pool import AsyncConn
from store.rows import fetch_one


@dataclass(frozen=True, kw_only=True, slots=True)
class Session:
    user_id: uuid.UUID
    email: str
    is_admin: bool
    csrf_token: str
    last_seen_at: datetime
    expires_at: datetime


_CREATE = (
    "INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at)"
    " VALUES (%(hash)s, %(user)s, %(csrf)s, %(expires)s)"
)
_VALID = """
SELECT s.user_id, u.email, u.is_admin, s.csrf_token, s.last_seen_at, s.expires_at
FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.token_hash = %(hash)s AND s.expires_at > %(now)s AND s.last_seen_at > %(idle_since)s
"""
_TOUCH = (
    "UPDATE sessions SET last_seen_at = %(now)s"
    " WHERE token_hash = %(hash)s AND last_seen_at < %(now)s - interval '1 minute'"
)
_END = "DELETE FROM sessions WHERE token_hash = %(hash)s"
_END_ALL = "DELETE FROM sessions WHERE user_id = %(user)s AND token_hash <> %(keep)s"
_SWEEP = "DELETE FROM sessions WHERE expires_at <= %(now)s OR last_seen_at <= %(idle_since)s"


async def create_session(
    conn: AsyncConn, *, token_hash: bytes, user_id: uuid.UUID, csrf: str, expires_at: datetime
) -> None:
    params = {"hash": token_hash, "user": user_id, "csrf": csrf, "expires": expires_at}
    await conn.execute(_CREATE, params)


async def valid_session(
    conn: AsyncConn, token_hash: bytes, now: datetime, idle: timedelta
) -> Session | None:
    """The session behind a cookie, if it is still valid; touches it."""
    params = {"hash": token_hash, "now": now, "idle_since": now - idle}
    found = await fetch_one(conn, Session, _VALID, params)
    if found is not None:
        await conn.execute(_TOUCH, {"hash": token_hash, "now": now})
    return found


async def end_session(conn: AsyncConn, token_hash: bytes) -> None:
    await conn.execute(_END, {"hash": token_hash})


async def end_other_sessions(conn: AsyncConn, user_id: uuid.UUID, keep: bytes) -> None:
    """Sign the user out everywhere else (after a password change)."""
    await conn.execute(_END_ALL, {"user": user_id, "keep": keep})


async def sweep(conn: AsyncConn, now: datetime, idle: timedelta) -> None:
    """Forget sessions that can no longer be used."""
    await conn.execute(_SWEEP, {"now": now, "idle_since": now - idle})
