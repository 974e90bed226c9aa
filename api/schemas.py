"""Request and response bodies of the /v1 API (pydantic).

Strings reaching the database refuse NUL characters (PostgreSQL text cannot hold
them); secrets and tokens appear in a response only where it says "shown once".
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from probes.kinds.options import KINDS


def _no_nul(text: str) -> str:
    if "\x00" in text:
        raise ValueError("must not contain NUL characters")
    return text


def _utc(moment: datetime) -> datetime:
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("date out of range") from exc


Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_no_nul)]
LocationName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
Target = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=1000), AfterValidator(_no_nul)
]
Secret = Annotated[str, Field(min_length=1, max_length=1000), AfterValidator(_no_nul)]
Kind = Literal["sip_call", "sip_options", "sip_register", "http", "tcp", "icmp", "push"]
Scope = Literal["read", "write"]
Moment = Annotated[AwareDatetime, AfterValidator(_utc)]
"""A date-time with an offset, normalised to UTC."""
Bound = Annotated[float, Field(allow_inf_nan=False)]

assert set(KINDS) == set(Kind.__args__)  # type: ignore[attr-defined]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProjectCreate(_In):
    """A new tenant."""

    name: Name


class ProjectOut(BaseModel):
    """A tenant."""

    id: uuid.UUID
    name: str
    created_at: datetime


class KeyCreate(_In):
    """A new API key: ``read`` sees everything, ``write`` also changes it."""

    name: Name
    scope: Scope = "read"


class KeyOut(BaseModel):
    """An API key as listed; ``prefix`` identifies it."""

    id: uuid.UUID
    name: str
    scope: Scope
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class KeyCreated(KeyOut):
    """A new key with its token: shown once, store it now."""

    token: str


class ProjectCreated(BaseModel):
    """A new project with its first write key (shown once)."""

    project: ProjectOut
    key: KeyCreated


class LocationCreate(_In):
    """A new location: lower-case letters, digits, ``-`` and ``_``."""

    name: LocationName


class LocationOut(BaseModel):
    """A place agents run probes from."""

    id: uuid.UUID
    name: str
    created_at: datetime


class AgentCreate(_In):
    """A new agent at an existing location."""

    name: Name
    location: LocationName


class AgentOut(BaseModel):
    """An agent as listed; ``prefix`` identifies its token."""

    id: uuid.UUID
    name: str
    location: str
    prefix: str
    created_at: datetime
    last_seen: datetime | None
    revoked_at: datetime | None


class AgentCreated(AgentOut):
    """A new agent with its token: shown once, configure the agent with it now."""

    token: str


class ProbePatch(_In):
    """Fields to change (the kind cannot change); ``secret: null`` removes the secret."""

    name: Name | None = None
    target: Target | None = None
    replicas: Annotated[list[Target], Field(max_length=20)] | None = None
    interval_s: Annotated[int, Field(ge=5, le=86400)] | None = None
    timeout_s: Annotated[float, Field(gt=0, le=600)] | None = None
    enabled: bool | None = None
    locations: Annotated[list[LocationName], Field(max_length=50)] | None = None
    options: dict[str, Any] | None = None
    policy: dict[str, Any] | None = None
    secret: Secret | None = Field(default=None, description="Write-only: never returned")


class ProbeCreate(_In):
    """A new probe: what to check, where from, how often, and how to judge it."""

    name: Name
    kind: Kind
    target: Target = ""
    replicas: Annotated[list[Target], Field(max_length=20)] = []
    interval_s: Annotated[int, Field(ge=5, le=86400)] = 60
    timeout_s: Annotated[float, Field(gt=0, le=600)] = 30.0
    enabled: bool = True
    locations: Annotated[list[LocationName], Field(max_length=50)] = []
    options: dict[str, Any] = {}
    policy: dict[str, Any] = {}
    secret: Secret | None = Field(default=None, description="Write-only: never returned")


class ProbeOut(BaseModel):
    """A probe; its secret is never returned, only whether it has one."""

    id: uuid.UUID
    name: str
    kind: Kind
    target: str
    replicas: list[str]
    interval_s: int
    timeout_s: float
    enabled: bool
    locations: list[str]
    options: dict[str, Any]
    policy: dict[str, Any]
    has_secret: bool
    created_at: datetime
    updated_at: datetime


class ProbeCreated(ProbeOut):
    """A new probe; a push probe's ``push_token`` is shown once."""

    push_token: str | None = None


class Bounds(_In):
    """A warning bound (→ degraded) and/or a critical one (→ unhealthy)."""

    warning: Bound | None = None
    critical: Bound | None = None


class ThresholdCreate(Bounds):
    """A new rule on one metric of a probe."""

    metric: Annotated[str, Field(max_length=100)]


class ThresholdOut(BaseModel):
    """A probe's rule on one metric."""

    metric: str
    warning: float | None
    critical: float | None
    created_at: datetime


class MaintenanceCreate(_In):
    """Planned work: for one probe, one page, or (neither) the whole project."""

    title: Name
    starts_at: Moment
    ends_at: Moment
    probe_id: uuid.UUID | None = None
    page_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class MaintenanceOut(BaseModel):
    """A maintenance window."""

    id: uuid.UUID
    probe_id: uuid.UUID | None
    page_id: uuid.UUID | None
    title: str
    starts_at: datetime
    ends_at: datetime
    created_at: datetime


class StatOut(BaseModel):
    """A metric over a bucket (null when nothing was measured)."""

    avg: float | None
    min: float | None
    max: float | None


class BucketOut(BaseModel):
    """Results of one time bucket: run counts and per-metric statistics."""

    bucket: datetime
    runs: int
    ok_runs: int
    metrics: dict[str, StatOut]


class RawResults(BaseModel):
    """Stored results in [start, end), newest first."""

    probe_id: uuid.UUID
    start: datetime
    end: datetime
    results: list[dict[str, Any]]


class BucketedResults(BaseModel):
    """Results in [start, end) summarised per ``bucket``, oldest first."""

    probe_id: uuid.UUID
    start: datetime
    end: datetime
    bucket: str
    buckets: list[BucketOut]
