"""Repository of console accounts, their memberships (role per project) and invitations.

Passwords arrive here already hashed (Argon2id, :mod:`api.services.accounts`); an
invitation's token is stored as its SHA-256, like every other token.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from store.pool import AsyncConn
from store.rows import fetch_all, fetch_new, fetch_one

ROLES = ("viewer", "editor", "owner")
"""Weakest first: a role includes every role before it."""


@dataclass(frozen=True, kw_only=True, slots=True)
class User:
    id: uuid.UUID
    email: str
    is_admin: bool
    created_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class Credentials:
    """What sign-in checks: the hash and the account's failure count and lock."""

    id: uuid.UUID
    email: str
    password_hash: str
    failed_logins: int
    locked_until: datetime | None


@dataclass(frozen=True, kw_only=True, slots=True)
class Membership:
    """A user's role in a project, with the project's name."""

    user_id: uuid.UUID
    email: str
    project_id: uuid.UUID
    project_name: str
    role: str
    created_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class Invitation:
    project_id: uuid.UUID
    project_name: str
    role: str
    email: str
    expires_at: datetime
    used_at: datetime | None


_CREATE = (
    "INSERT INTO users (email, password_hash, is_admin)"
    " VALUES (lower(%(email)s), %(hash)s, NOT EXISTS (SELECT 1 FROM users))"
    " RETURNING id, email, is_admin, created_at"
)
_COUNT = "SELECT count(*) FROM users"
_BY_ID = "SELECT id, email, is_admin, created_at FROM users WHERE id = %(id)s"
_CREDENTIALS = (
    "SELECT id, email, password_hash, failed_logins, locked_until FROM users"
    " WHERE email = lower(%(email)s)"
)
_FAILED = (
    "UPDATE users SET failed_logins = failed_logins + 1,"
    " locked_until = CASE WHEN failed_logins + 1 >= %(limit)s THEN %(until)s"
    " ELSE locked_until END WHERE id = %(id)s"
)
_SUCCEEDED = "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = %(id)s"
_REHASH = (
    "UPDATE users SET password_hash = %(hash)s, password_set_at = now(), failed_logins = 0,"
    " locked_until = NULL WHERE email = lower(%(email)s) RETURNING id"
)
_MEMBERSHIPS = """
SELECT m.user_id, u.email, m.project_id, p.name AS project_name, m.role, m.created_at
FROM memberships m JOIN users u ON u.id = m.user_id JOIN projects p ON p.id = m.project_id
"""
_OF_USER = _MEMBERSHIPS + " WHERE m.user_id = %(user)s ORDER BY p.name, p.id"
_OF_PROJECT = _MEMBERSHIPS + " WHERE m.project_id = %(project)s ORDER BY u.email"
_ROLE = "SELECT role FROM memberships WHERE user_id = %(user)s AND project_id = %(project)s"
_JOIN = (
    "INSERT INTO memberships (user_id, project_id, role) VALUES (%(user)s, %(project)s, %(role)s)"
    " ON CONFLICT (user_id, project_id) DO UPDATE SET role = excluded.role"
)
_LEAVE = (
    "DELETE FROM memberships WHERE user_id = %(user)s AND project_id = %(project)s"
    " RETURNING user_id"
)
_OWNERS = "SELECT count(*) FROM memberships WHERE project_id = %(project)s AND role = 'owner'"
_JOIN_ALL = (
    "INSERT INTO memberships (user_id, project_id, role)"
    " SELECT %(user)s, id, 'owner' FROM projects ON CONFLICT DO NOTHING"
)
_INVITE = (
    "INSERT INTO invitations (token_hash, project_id, role, email, invited_by, expires_at)"
    " VALUES (%(hash)s, %(project)s, %(role)s, lower(%(email)s), %(by)s, %(expires)s)"
)
_INVITATION = """
SELECT i.project_id, p.name AS project_name, i.role, i.email, i.expires_at, i.used_at
FROM invitations i JOIN projects p ON p.id = i.project_id WHERE i.token_hash = %(hash)s
"""
_USE_INVITATION = (
    "UPDATE invitations SET used_at = now() WHERE token_hash = %(hash)s AND used_at IS NULL"
    " AND expires_at > now() RETURNING project_id"
)


async def create_user(conn: AsyncConn, email: str, password_hash: str) -> User:
    """A new account; the first one made is the administrator."""
    return await fetch_new(conn, User, _CREATE, {"email": email, "hash": password_hash})


async def count_users(conn: AsyncConn) -> int:
    row = await (await conn.execute(_COUNT)).fetchone()
    return int(row[0]) if row else 0


async def user_by_id(conn: AsyncConn, user_id: uuid.UUID) -> User | None:
    return await fetch_one(conn, User, _BY_ID, {"id": user_id})


async def credentials(conn: AsyncConn, email: str) -> Credentials | None:
    return await fetch_one(conn, Credentials, _CREDENTIALS, {"email": email})


async def login_failed(
    conn: AsyncConn, user_id: uuid.UUID, *, limit: int, lock_until: datetime
) -> None:
    """Count a wrong password; the ``limit``-th in a row locks the account until then."""
    await conn.execute(_FAILED, {"id": user_id, "limit": limit, "until": lock_until})


async def login_succeeded(conn: AsyncConn, user_id: uuid.UUID) -> None:
    await conn.execute(_SUCCEEDED, {"id": user_id})


async def set_password(conn: AsyncConn, email: str, password_hash: str) -> bool:
    """Replace an account's password (and lift its lock); false when there is none."""
    params = {"email": email, "hash": password_hash}
    return await (await conn.execute(_REHASH, params)).fetchone() is not None


async def memberships_of(conn: AsyncConn, user_id: uuid.UUID) -> list[Membership]:
    return await fetch_all(conn, Membership, _OF_USER, {"user": user_id})


async def members(conn: AsyncConn, project_id: uuid.UUID) -> list[Membership]:
    return await fetch_all(conn, Membership, _OF_PROJECT, {"project": project_id})


async def role(conn: AsyncConn, user_id: uuid.UUID, project_id: uuid.UUID) -> str | None:
    """The user's role in the project, None when not a member."""
    row = await (await conn.execute(_ROLE, {"user": user_id, "project": project_id})).fetchone()
    return str(row[0]) if row else None


async def join(conn: AsyncConn, user_id: uuid.UUID, project_id: uuid.UUID, role: str) -> None:
    """Make the user a member with ``role`` (or change the role they have)."""
    await conn.execute(_JOIN, {"user": user_id, "project": project_id, "role": role})


async def leave(conn: AsyncConn, user_id: uuid.UUID, project_id: uuid.UUID) -> bool:
    params = {"user": user_id, "project": project_id}
    return await (await conn.execute(_LEAVE, params)).fetchone() is not None


async def owner_count(conn: AsyncConn, project_id: uuid.UUID) -> int:
    row = await (await conn.execute(_OWNERS, {"project": project_id})).fetchone()
    return int(row[0]) if row else 0


async def own_every_project(conn: AsyncConn, user_id: uuid.UUID) -> None:
    """Make the user an owner of every project there is (the first account, set up on an
    instance whose projects were made through the API)."""
    await conn.execute(_JOIN_ALL, {"user": user_id})


async def invite(
    conn: AsyncConn,
    *,
    token_hash: bytes,
    project_id: uuid.UUID,
    role: str,
    email: str,
    invited_by: uuid.UUID,
    expires_at: datetime,
) -> None:
    params = {
        "hash": token_hash,
        "project": project_id,
        "role": role,
        "email": email,
        "by": invited_by,
        "expires": expires_at,
    }
    await conn.execute(_INVITE, params)


async def invitation(conn: AsyncConn, token_hash: bytes) -> Invitation | None:
    return await fetch_one(conn, Invitation, _INVITATION, {"hash": token_hash})


async def use_invitation(conn: AsyncConn, token_hash: bytes) -> bool:
    """Spend an invitation; false when it was used already or has expired."""
    return await (await conn.execute(_USE_INVITATION, {"hash": token_hash})).fetchone() is not None
