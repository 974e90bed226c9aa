"""Repository of API keys: only SHA-256 hashes of the tokens are stored."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from store.pool import AsyncConn
from store.rows import fetch_all, fetch_found, fetch_new, fetch_one


@dataclass(frozen=True, kw_only=True, slots=True)
class ApiKey:
    """A key as listed: its prefix identifies it, the token itself is never stored."""

    id: uuid.UUID
    project_id: uuid.UUID
    name: str
    scope: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, kw_only=True, slots=True)
class KeyOwner:
    """Who a presented, unrevoked token belongs to."""

    key_id: uuid.UUID
    project_id: uuid.UUID
    scope: str
    name: str
    prefix: str


_INSERT = (
    "INSERT INTO api_keys (project_id, name, scope, prefix, token_hash)"
    " VALUES (%s, %s, %s, %s, %s)"
    " RETURNING id, project_id, name, scope, prefix, created_at, revoked_at"
)
_LIST = (
    "SELECT id, project_id, name, scope, prefix, created_at, revoked_at FROM api_keys"
    " WHERE project_id = %s ORDER BY created_at, id"
)
_REVOKE = (
    "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())"
    " WHERE project_id = %s AND id = %s"
    " RETURNING id, project_id, name, scope, prefix, created_at, revoked_at"
)
_BY_HASH = (
    "SELECT id AS key_id, project_id, scope, name, prefix FROM api_keys"
    " WHERE token_hash = %s AND revoked_at IS NULL"
)


async def create_key(
    conn: AsyncConn,
    *,
    project_id: uuid.UUID,
    name: str,
    scope: str,
    prefix: str,
    token_hash: bytes,
) -> ApiKey:
    """Store a new key's hash."""
    return await fetch_new(conn, ApiKey, _INSERT, (project_id, name, scope, prefix, token_hash))


async def list_keys(conn: AsyncConn, project_id: uuid.UUID) -> list[ApiKey]:
    """The project's keys, revoked ones included, oldest first."""
    return await fetch_all(conn, ApiKey, _LIST, (project_id,))


async def revoke_key(conn: AsyncConn, project_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey:
    """Revoke a key of the project (idempotent), or :class:`NotFound`."""
    return await fetch_found(conn, ApiKey, _REVOKE, (project_id, key_id), missing="key not found")


async def key_by_hash(conn: AsyncConn, token_hash: bytes) -> KeyOwner | None:
    """The unrevoked key with this token hash, if any."""
    return await fetch_one(conn, KeyOwner, _BY_HASH, (token_hash,))
