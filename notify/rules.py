"""A channel's routing rules: which probes, which changes, and how noise is held back.

Validated when a channel is created or changed (a bad rule is a 422, never a surprise
at send time); stored as JSON on the channel and read back through :class:`Rules`.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Trigger = Literal["degraded", "unhealthy", "unknown", "recovered"]


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FlapDamping(_Rule):
    """``changes`` state changes within ``window_minutes`` send one ``probe.flapping``
    notice instead; once the probe has not changed for ``settle_minutes`` one
    ``probe.settled`` notice tells the state it settled in."""

    changes: int = Field(default=4, ge=2, le=100)
    window_minutes: float = Field(default=10.0, gt=0, le=1440)
    settle_minutes: float = Field(default=10.0, gt=0, le=1440)


class Reminders(_Rule):
    """While a notified incident stays open: a reminder after ``every_minutes``, each
    following one ``backoff`` times later, at most ``max`` of them."""

    every_minutes: float = Field(default=60.0, ge=1, le=10080)
    backoff: float = Field(default=2.0, ge=1, le=10)
    max: int = Field(default=5, ge=1, le=100)


class Rules(_Rule):
    """Empty ``probes``, ``pages`` and ``tags`` mean every probe of the project; otherwise
    a probe matches when any of the three names it."""

    probes: list[uuid.UUID] = Field(default=[], max_length=1000)
    pages: list[uuid.UUID] = Field(default=[], max_length=100)
    tags: list[str] = Field(default=[], max_length=20)
    on: list[Trigger] = Field(default=["degraded", "unhealthy", "recovered"], min_length=1)
    quiet_in_maintenance: bool = True
    reminders: Reminders | None = None
    flap: FlapDamping | None = FlapDamping()

    def matches(
        self, probe_id: uuid.UUID, tags: Collection[str], pages: Collection[uuid.UUID]
    ) -> bool:
        """Whether a probe with these tags, on these pages, is this channel's."""
        if not (self.probes or self.pages or self.tags):
            return True
        return (
            probe_id in self.probes
            or any(page in self.pages for page in pages)
            or any(tag in self.tags for tag in tags)
        )
