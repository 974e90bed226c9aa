"""Repository of notification channels: a project's plugins, their rules and sealed secrets.

``secret`` is ciphertext made by the API with the settings key; only the dispatcher and
the rotation route read it back, and no listing returns it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from store.pool import AsyncConn
from store.rows import fetch_all, fetch_found, fetch_new

_COLUMNS = " id, project_id, name, kind, config, rules, paused_at, created_at, updated_at "


@dataclass(frozen=True, kw_only=True, slots=True)
class ChannelRow:
    """A channel as listed: everything but its secret."""

    id: uuid.UUID
    project_id: uuid.UUID
    name: str
    kind: str
    config: dict[str, Any]
    rules: dict[str, Any]
    paused_at: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class SealedChannel(ChannelRow):
    """A channel with its encrypted secret, for sending."""

    secret: bytes


_INSERT = (
    "INSERT INTO notify_channels (project_id, name, kind, config, secret, rules)"
    " VALUES (%(project)s, %(name)s, %(kind)s, %(config)s, %(secret)s, %(rules)s)"
    " RETURNING id, project_id, name, kind, config, rules, paused_at, created_at, updated_at"
)
_SELECT = "SELECT" + _COLUMNS + "FROM notify_channels WHERE project_id = %(project)s"
_LIST = _SELECT + " ORDER BY name, id"
_GET = _SELECT + " AND id = %(id)s"
_SEALED = (
    "SELECT" + _COLUMNS + ", secret FROM notify_channels WHERE project_id = %(project)s"
    " AND id = %(id)s"
)
_SEALED_LIST = (
    "SELECT" + _COLUMNS + ", secret FROM notify_channels WHERE project_id = %(project)s"
    " ORDER BY name, id"
)
_UPDATE = (
    "UPDATE notify_channels SET name = %(name)s, config = %(config)s, rules = %(rules)s,"
    " secret = %(secret)s, updated_at = now()"
    " WHERE project_id = %(project)s AND id = %(id)s"
    " RETURNING id, project_id, name, kind, config, rules, paused_at, created_at, updated_at"
)
_PAUSE = (
    "UPDATE notify_channels"
    " SET paused_at = CASE WHEN %(paused)s THEN coalesce(paused_at, now()) END,"
    " updated_at = now() WHERE project_id = %(project)s AND id = %(id)s"
    " RETURNING id, project_id, name, kind, config, rules, paused_at, created_at, updated_at"
)
_DELETE = (
    "DELETE FROM notify_channels WHERE project_id = %(project)s AND id = %(id)s"
    " RETURNING id, project_id, name, kind, config, rules, paused_at, created_at, updated_at"
)

_MISSING = "channel not found"


async def create_channel(
    conn: AsyncConn,
    project_id: uuid.UUID,
    *,
    name: str,
    kind: str,
    config: dict[str, Any],
    secret: bytes,
    rules: dict[str, Any],
) -> ChannelRow:
    params = {
        "project": project_id,
        "name": name,
        "kind": kind,
        "config": Jsonb(config),
        "secret": secret,
        "rules": Jsonb(rules),
    }
    return await fetch_new(conn, ChannelRow, _INSERT, params)


async def list_channels(conn: AsyncConn, project_id: uuid.UUID) -> list[ChannelRow]:
    return await fetch_all(conn, ChannelRow, _LIST, {"project": project_id})


async def get_channel(conn: AsyncConn, project_id: uuid.UUID, channel_id: uuid.UUID) -> ChannelRow:
    params = {"project": project_id, "id": channel_id}
    return await fetch_found(conn, ChannelRow, _GET, params, missing=_MISSING)


async def sealed_channel(
    conn: AsyncConn, project_id: uuid.UUID, channel_id: uuid.UUID
) -> SealedChannel:
    """The channel with its ciphertext, to send through or to change its secret."""
    params = {"project": project_id, "id": channel_id}
    return await fetch_found(conn, SealedChannel, _SEALED, params, missing=_MISSING)


async def sealed_channels(conn: AsyncConn, project_id: uuid.UUID) -> list[SealedChannel]:
    """The project's channels with their ciphertexts, for a listing that says which
    secret fields are set (never what they hold)."""
    return await fetch_all(conn, SealedChannel, _SEALED_LIST, {"project": project_id})


async def update_channel(
    conn: AsyncConn,
    project_id: uuid.UUID,
    channel_id: uuid.UUID,
    *,
    name: str,
    config: dict[str, Any],
    secret: bytes,
    rules: dict[str, Any],
) -> ChannelRow:
    params = {
        "project": project_id,
        "id": channel_id,
        "name": name,
        "config": Jsonb(config),
        "secret": secret,
        "rules": Jsonb(rules),
    }
    return await fetch_found(conn, ChannelRow, _UPDATE, params, missing=_MISSING)


async def set_paused(
    conn: AsyncConn, project_id: uuid.UUID, channel_id: uuid.UUID, *, paused: bool
) -> ChannelRow:
    """Pause (deliveries wait, none is dropped) or resume a channel."""
    params = {"project": project_id, "id": channel_id, "paused": paused}
    return await fetch_found(conn, ChannelRow, _PAUSE, params, missing=_MISSING)


async def delete_channel(conn: AsyncConn, project_id: uuid.UUID, channel_id: uuid.UUID) -> None:
    params = {"project": project_id, "id": channel_id}
    await fetch_found(conn, ChannelRow, _DELETE, params, missing=_MISSING)
