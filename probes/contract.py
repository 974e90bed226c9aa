"""The agent <-> API contract, version 1: what an agent leases and what it posts.

Agents import this, never ``store`` or ``api``; the API serves exactly these
models, so a change here is a protocol change (bump ``CONTRACT_VERSION``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

CONTRACT_VERSION = 1


class LeaseRequest(BaseModel):
    """An agent asks for up to ``max_runs`` due runs; ``location`` must be its token's.

    ``agent_version`` and ``spool_backlog`` (added compatibly: an older agent leaves them
    out) say what the agent runs and how many results wait in its spool, for the console.
    """

    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    location: str = Field(min_length=1, max_length=63)
    max_runs: int = Field(default=10, ge=1, le=500)
    agent_version: str | None = Field(default=None, min_length=1, max_length=64)
    spool_backlog: int | None = Field(default=None, ge=0, le=100_000_000)


class LeasedRun(BaseModel):
    """One run to execute now; post its result with the same ``run_id`` before ``lease_expires``."""

    model_config = ConfigDict(extra="forbid")

    run_id: uuid.UUID
    probe_id: uuid.UUID
    probe_name: str
    kind: str
    target: str
    timeout_s: float
    options: dict[str, Any]
    secret: str | None = Field(default=None, repr=False)
    due_at: datetime
    lease_expires: datetime
    attempt: int


class Lease(BaseModel):
    """The API's answer: the runs (possibly none) and when to ask again at the latest."""

    version: Literal[1] = 1
    location: str
    runs: list[LeasedRun]
    poll_after_s: float


class ResultBatch(BaseModel):
    """Results posted by an agent: each a ``CallResult.to_json()`` dict, keyed by run id."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    results: list[dict[str, Any]] = Field(max_length=5000)


class Refusal(BaseModel):
    """A posted result the API will never store: posting it again cannot help."""

    index: int = Field(description="Its position in the posted batch")
    run_id: uuid.UUID | None = Field(description="Null when the item did not parse")
    reason: str


class IngestReport(BaseModel):
    """What the API did with a batch: new rows, duplicates (already stored), refused.

    ``rejected`` says why in words; ``refused`` (added compatibly, an older agent
    ignores it) says the same per item, so an agent can set those results aside.
    """

    accepted: int
    duplicates: int
    rejected: list[str]
    refused: list[Refusal] = []


class ReleaseRequest(BaseModel):
    """An agent stopping hands back runs it leased and will not finish (added compatibly):
    their leases expire now, so another agent of the location leases them next."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    run_ids: list[uuid.UUID] = Field(min_length=1, max_length=500)


class ReleaseReport(BaseModel):
    """How many of the runs were handed back (the others were not this agent's to release,
    or were complete already)."""

    released: int
