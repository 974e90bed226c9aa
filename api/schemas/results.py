"""Results, raw or bucketed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel


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
