"""Console accounts: Argon2id passwords, sign-in with a lock after repeated failures,
and server-side sessions.

Sign-in answers the same way, and takes about as long, whether the address has an
account or not (a wrong address is checked against a dummy hash), so the form does not
reveal who has an account. An account locks after ``console_login_failures`` wrong
passwords in a row, for ``console_lock_minutes``, whatever password comes next.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from api.security.auth import hash_token
from api.settings import Settings
from store import sessions, users
from store.pool import AsyncConn

HASHER = PasswordHasher()
"""argon2-cffi's defaults: Argon2id with RFC 9106's low-memory profile."""

MIN_PASSWORD = 12
MAX_PASSWORD = 256
SESSION_COOKIE = "callprobe_session"

_DUMMY_HASH = HASHER.hash(secrets.token_urlsafe(16))


class SignInRefused(Exception):
    """Why sign-in failed; the message is safe to show."""


@dataclass(frozen=True, kw_only=True, slots=True)
class NewSession:
    """A session just started: the cookie value (shown to the browser only)."""

    cookie: str
    expires_at: datetime


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_PASSWORD:
        return f"use at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"use at most {MAX_PASSWORD} characters"
    if len(set(password)) < 5:
        return "use more different characters"
    return None


async def hash_password(password: str) -> str:
    """The Argon2id hash, computed off the event loop (it takes tens of milliseconds)."""
    return await asyncio.to_thread(HASHER.hash, password)


async def sign_in(
    conn: AsyncConn, settings: Settings, email: str, password: str, now: datetime
) -> users.User | SignInRefused:
    """The account these credentials open, or why not. A refusal is returned, not raised,
    so the caller's transaction commits the failure count it made."""
    found = await users.credentials(conn, email.strip())
    if found is None:
        await _matches(_DUMMY_HASH, password)
        return SignInRefused("wrong email address or password")
    if found.locked_until is not None and found.locked_until > now:
        minutes = max(1, round((found.locked_until - now).total_seconds() / 60))
        return SignInRefused(
            f"too many wrong passwords: this account is locked for {minutes} more minutes"
        )
    if not await _matches(found.password_hash, password):
        lock = now + timedelta(minutes=settings.console_lock_minutes)
        await users.login_failed(
            conn, found.id, limit=settings.console_login_failures, lock_until=lock
        )
        return SignInRefused("wrong email address or password")
    await users.login_succeeded(conn, found.id)
    user = await users.user_by_id(conn, found.id)
    assert user is not None
    return user


async def start_session(
    conn: AsyncConn, settings: Settings, user_id: uuid.UUID, now: datetime
) -> NewSession:
    cookie = secrets.token_urlsafe(32)
    expires = now + timedelta(hours=settings.console_session_hours)
    await sessions.create_session(
        conn,
        token_hash=hash_token(cookie),
        user_id=user_id,
        csrf=secrets.token_urlsafe(32),
        expires_at=expires,
    )
    return NewSession(cookie=cookie, expires_at=expires)


async def session_of(
    conn: AsyncConn, settings: Settings, cookie: str, now: datetime
) -> sessions.Session | None:
    """The valid session behind a cookie value, if any."""
    idle = timedelta(minutes=settings.console_idle_minutes)
    return await sessions.valid_session(conn, hash_token(cookie), now, idle)


async def _matches(stored: str, password: str) -> bool:
    try:
        return await asyncio.to_thread(HASHER.verify, stored, password)
    except (VerificationError, InvalidHashError):
        return False
