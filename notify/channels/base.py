"""What every channel plugin is: validated configuration in, one delivery attempt out.

A plugin (Gatus/Vigil style) declares its public configuration and its write-only secrets
as pydantic models, so a bad channel fails at creation with a clear 422, and renders and
sends a notice through :class:`Outbound`, which applies the SSRF guard, the attempt
timeout and never follows a redirect. Plugins never retry: the dispatcher does.

Written here rather than on apprise (which knows these providers): a delivery needs
the receiver's status code and ``Retry-After`` to retry correctly, an idempotency key
and Standard Webhooks signatures on the request, and every connection pinned to the
address the SSRF guard checked; apprise reports a boolean and opens its own connections.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import ClassVar, Literal, Protocol

from pydantic import BaseModel, ConfigDict

from notify.payloads import CrispHealthChanged, ProbeNotice


class ChannelConfig(BaseModel):
    """Base of every plugin's public and secret settings: unknown fields are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid")


@dataclass(frozen=True, kw_only=True, slots=True)
class Sent:
    """One attempt's outcome as the far end answered it.

    ``status`` is the HTTP status (or SMTP reply code), None when no answer came;
    ``retry_after_s`` is the far end's Retry-After; ``error`` says why it failed.
    """

    ok: bool
    status: int | None = None
    retry_after_s: float | None = None
    error: str | None = None
    permanent: bool = False
    """A failure no retry can fix (a 4xx other than 408/429, refused credentials)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Delivery:
    """One notice on its way to one channel: ``key`` is its idempotency key, the same on
    every attempt (sent as ``webhook-id`` / ``Idempotency-Key``)."""

    key: str
    notice: ProbeNotice | CrispHealthChanged


class Outbound(Protocol):
    """The guarded network, as plugins use it."""

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Sent: ...

    async def mail(
        self,
        message: EmailMessage,
        *,
        host: str,
        port: int,
        security: Literal["starttls", "tls", "none"],
        username: str | None,
        password: str | None,
    ) -> Sent: ...


class Channel(Protocol):
    """A channel plugin: its kind, its two models, and how it sends."""

    kind: ClassVar[str]
    Config: ClassVar[type[ChannelConfig]]
    Secrets: ClassVar[type[ChannelConfig]]
    formats: ClassVar[frozenset[str]]
    """Which documents it sends: ``probe`` (ProbeNotice) and/or ``crisp`` (page events)."""

    @classmethod
    def targets(cls, config: ChannelConfig, secrets: ChannelConfig) -> list[str]:
        """The URLs (or ``smtp://host:port``) it sends to, for the SSRF guard at creation."""
        ...

    @classmethod
    async def send(
        cls, delivery: Delivery, config: ChannelConfig, secrets: ChannelConfig, out: Outbound
    ) -> Sent: ...
