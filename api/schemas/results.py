"""Results, raw or bucketed (a bucket as stored: :class:`store.results_query.Bucket`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from store.results_query import Bucket


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
    buckets: list[Bucket]
