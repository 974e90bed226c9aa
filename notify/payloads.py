"""What a notice says: the versioned JSON documents callprobe sends.

``ProbeNotice`` (``version`` 1) is the document every channel renders from and the body
of a generic webhook; its JSON Schema is published at ``/v1/channels/schema``. Fields
are only ever added within a version; a rename or removal is a new version.
``CrispHealthChanged`` is the page-level ``status:health:changed`` event of Crisp's
status page web hooks, for users migrating from Crisp.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

State = Literal["healthy", "degraded", "unhealthy", "unknown"]

NoticeType = Literal[
    "probe.health_changed", "probe.flapping", "probe.settled", "probe.reminder", "test"
]
"""``health_changed``: a routed transition; ``flapping``: the one notice sent when a probe
starts changing state too often; ``settled``: its end, with the state it settled in;
``reminder``: an incident still open; ``test``: the test-send route."""


class _Doc(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Measured(_Doc):
    """One reason for the state: the rule that decided and the value it saw."""

    state: State
    rule: str
    metric: str | None = None
    value: float | None = None
    bound: float | None = None
    location: str | None = None
    text: str


class ProjectRef(_Doc):
    id: uuid.UUID
    name: str


class ProbeRef(_Doc):
    id: uuid.UUID
    name: str
    kind: str
    tags: list[str] = []


class IncidentRef(_Doc):
    """The probe's incident; ``dedup_key`` is stable for the alert a flap keeps open."""

    id: uuid.UUID | None = None
    opened_at: datetime | None = None
    dedup_key: str


class PageRef(_Doc):
    name: str
    url: str


class Flapping(_Doc):
    changes: int
    window_minutes: float


class Reminder(_Doc):
    number: int
    open_for_s: float


class ProbeNotice(_Doc):
    """A probe's health, as a channel tells it (schema version 1)."""

    version: Literal[1] = 1
    type: NoticeType
    id: str
    """The event's id: the same in every channel's copy of one notice."""
    occurred_at: datetime
    project: ProjectRef
    probe: ProbeRef
    from_state: State
    to_state: State
    cause: str
    reasons: list[Measured] = []
    incident: IncidentRef | None = None
    pages: list[PageRef] = []
    flapping: Flapping | None = None
    reminder: Reminder | None = None


CrispHealth = Literal["healthy", "sick", "dead"]

CRISP_HEALTH: dict[str, CrispHealth] = {
    "healthy": "healthy",
    "degraded": "sick",
    "unhealthy": "dead",
    "unknown": "healthy",
}
"""Crisp has no 'unknown': a page whose probes have no data yet is not reported down."""


class CrispNode(_Doc):
    label: str
    replica: str


class CrispHealthData(_Doc):
    website_id: str
    health: CrispHealth
    nodes: list[CrispNode]


class CrispHealthChanged(_Doc):
    """Crisp's ``status:health:changed`` web hook; ``website_id`` is the page's slug and
    ``nodes`` its components that are not healthy, one per location ("replica")."""

    website_id: str
    event: Literal["status:health:changed"] = "status:health:changed"
    data: CrispHealthData
    timestamp: int
    """Milliseconds since the epoch."""
