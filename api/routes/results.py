"""A probe's stored results over a time range: raw rows or time buckets, JSON or CSV.

CSV cells are neutralised against formula injection (:mod:`statuspages.csv_cells`):
SIP reason phrases and errors come from the far end.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from api.errors import invalid
from api.schemas.common import Moment
from api.schemas.results import BucketedResults, RawResults
from api.security.auth import Reader
from api.state import State
from probes.result import CallResult
from statuspages.csv_cells import csv_cell
from store import probes, results_query
from store.errors import NotFound
from store.results import COLUMNS

router = APIRouter(prefix="/v1/probes/{probe_id}/results", tags=["results"])

DEFAULT_SPAN = timedelta(hours=24)
MAX_SPAN = timedelta(days=400)
MAX_BUCKETS = 100_000
BUCKET_PATTERN = r"^[1-9][0-9]{0,5}[smhd]$"
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}}
}

Format = Literal["json", "csv"]


@router.get("", response_model=RawResults | BucketedResults, responses=_CSV)
async def get_results(
    *,
    probe_id: uuid.UUID,
    principal: Reader,
    st: State,
    start: Annotated[Moment | None, Query(description="Default: end - 24 h")] = None,
    end: Annotated[Moment | None, Query(description="Default: now")] = None,
    bucket: Annotated[str | None, Query(pattern=BUCKET_PATTERN, examples=["5m"])] = None,
    fmt: Annotated[Format, Query(alias="format")] = "json",
    limit: Annotated[int, Query(ge=1, le=10_000, description="Raw rows only")] = 1000,
) -> Response:
    """Results started in [start, end): newest first, or per ``bucket`` (1m, 5m, 1h, 1d…)."""
    start, end = _window(start, end)
    width = None if bucket is None else _width(bucket, end - start)
    async with st.transaction() as conn:
        if not await probes.probe_exists(conn, principal.project_id, probe_id):
            raise NotFound("probe not found")
        if width is None:
            rows = await results_query.raw_results(
                conn, principal.project_id, probe_id, start=start, end=end, limit=limit
            )
            return _raw(RawResults(probe_id=probe_id, start=start, end=end, results=[]), rows, fmt)
        buckets = await results_query.bucketed_results(
            conn, principal.project_id, probe_id, start=start, end=end, width=width
        )
    page = BucketedResults(
        probe_id=probe_id,
        start=start,
        end=end,
        bucket=bucket or "",
        buckets=buckets,
    )
    return _bucketed(page, fmt)


def _window(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    end = end or datetime.now(UTC)
    try:
        start = start or end - DEFAULT_SPAN
    except OverflowError as exc:
        raise invalid(("query", "end"), "end is too early for the default 24 h range") from exc
    if start >= end:
        raise invalid(("query", "start"), "start must be before end")
    if end - start > MAX_SPAN:
        raise invalid(("query", "start"), f"the range may span at most {MAX_SPAN.days} days")
    return start, end


def _width(bucket: str, span: timedelta) -> timedelta:
    width = timedelta(**{_UNITS[bucket[-1]]: int(bucket[:-1])})
    if width > MAX_SPAN:
        raise invalid(("query", "bucket"), f"a bucket may span at most {MAX_SPAN.days} days")
    if span / width > MAX_BUCKETS:
        raise invalid(("query", "bucket"), f"more than {MAX_BUCKETS} buckets: widen the bucket")
    return width


def _raw(page: RawResults, rows: Sequence[CallResult], fmt: Format) -> Response:
    if fmt == "csv":
        return _csv(COLUMNS, ([getattr(row, name) for name in COLUMNS] for row in rows))
    page.results = [row.to_json() for row in rows]
    return JSONResponse(page.model_dump(mode="json"))


def _bucketed(page: BucketedResults, fmt: Format) -> Response:
    if fmt == "json":
        return JSONResponse(page.model_dump(mode="json"))
    names = list(results_query.BUCKET_METRICS)
    header = ["bucket", "runs", "ok_runs"] + [
        f"{m}_{s}" for m in names for s in ("avg", "min", "max")
    ]
    lines = (
        [b.bucket.isoformat(), b.runs, b.ok_runs]
        + [getattr(b.metrics[m], s) for m in names for s in ("avg", "min", "max")]
        for b in page.buckets
    )
    return _csv(header, lines)


def _csv(header: Sequence[str], lines: Iterable[Sequence[Any]]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for line in lines:
        writer.writerow(["" if value is None else _cell(value) for value in line])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8")


def _cell(value: Any) -> Any:
    """Dates as ISO 8601; text that could start a spreadsheet formula quoted."""
    return value.isoformat() if isinstance(value, datetime) else csv_cell(value)
