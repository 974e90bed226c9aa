"""Notification channels and their delivery log.

A channel's ``config`` and ``secrets`` are checked against its kind's plugin
(``notify.channels``); secrets are write-only: responses say which secret fields are set,
never what they hold, except a webhook signing secret callprobe made, shown once.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from api.schemas.common import InputModel, Name
from notify.rules import Rules

DeliveryState = Literal["pending", "sending", "delivered", "dead"]

_SECRETS = "Write-only: never returned; a webhook without signing_secrets gets one made"
_REPLACES = "Replaces the whole object when given"


class ChannelCreate(InputModel):
    """A new channel: its plugin ``kind``, that plugin's settings, and its routing rules."""

    name: Name
    kind: Annotated[str, Field(max_length=40)]
    config: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, Any] = Field(default_factory=dict, description=_SECRETS)
    rules: Rules = Field(default_factory=Rules)


class ChannelPatch(InputModel):
    """Fields to change (the kind cannot change). Changing where a secret is sent (a URL,
    an SMTP host, port or user) needs the ``secrets`` again in the same request."""

    name: Name | None = None
    config: dict[str, Any] | None = Field(default=None, description=_REPLACES)
    secrets: dict[str, Any] | None = Field(default=None, description=f"{_REPLACES}. {_SECRETS}")
    rules: Rules | None = None


class ChannelOut(BaseModel):
    """A channel; of its secrets only the names of the fields that are set."""

    id: uuid.UUID
    name: str
    kind: str
    config: dict[str, Any]
    rules: dict[str, Any]
    paused: bool
    paused_at: datetime | None
    secrets_set: list[str]
    created_at: datetime
    updated_at: datetime


class ChannelWithSecret(ChannelOut):
    """A channel as created, changed or rotated: a signing secret callprobe has just made
    is in ``signing_secret``, in this response only."""

    signing_secret: str | None = None


class TestSent(BaseModel):
    """What a test send did: one attempt, logged like any other delivery."""

    delivery_id: uuid.UUID
    delivered: bool
    state: DeliveryState
    status_code: int | None
    latency_ms: float
    error: str | None


class AttemptOut(BaseModel):
    """One attempt: when, how long, what the receiver answered."""

    attempt: int
    started_at: datetime
    latency_ms: float
    status_code: int | None
    outcome: Literal["delivered", "failed", "dead"]
    error: str | None


class DeliveryOut(BaseModel):
    """One notice for one channel; ``id`` is its idempotency key, ``seq`` pages the log."""

    id: uuid.UUID
    seq: int
    channel_id: uuid.UUID
    kind: str
    state: DeliveryState
    attempts: list[AttemptOut]
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryDetail(DeliveryOut):
    """A delivery with the document it sends."""

    payload: dict[str, Any]


class PayloadSchemas(BaseModel):
    """The JSON Schemas of what callprobe sends (see docs/notifications.md)."""

    probe_notice: dict[str, Any]
    crisp_health_changed: dict[str, Any]
