"""Probe detail: health per location with the reasons that decided it, charts over a
range, the results table with filters and its CSV export (the API's own export), and the
probe's open incidents. Read-only: viewers see all of it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.console import chart_view, render
from api.console.chart_view import BadRange, Span
from api.console.session import Member, Refused
from api.public.static_assets import content_version
from api.routes import results
from api.state import of as state_of
from probes.result import Outcome
from store import console_reads, health, probes, results_query
from store.errors import NotFound
from store.pool import AsyncConn

router = APIRouter(prefix="/console/p/{project_id}/probes", include_in_schema=False)

PAGE_SIZE = 50
OUTCOMES = [outcome.value for outcome in Outcome]
RangeName = Annotated[str | None, Query(alias="range")]
From = Annotated[str | None, Query(alias="from")]
To = Annotated[str | None, Query(alias="to")]


@dataclass(frozen=True, kw_only=True, slots=True)
class LocationHealth:
    """A row of the health table: '' is the probe as a whole."""

    label: str
    state: str
    since: datetime | None
    reasons: list[dict[str, Any]]


@router.get("/{probe_id:uuid}", response_class=HTMLResponse)
async def probe_detail(
    *,
    request: Request,
    seat: Member,
    probe_id: uuid.UUID,
    range_name: RangeName = None,
    start: From = None,
    end: To = None,
    outcome: str | None = None,
    location: str | None = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    queued: Annotated[int | None, Query(ge=0, le=10_000)] = None,
) -> Response:
    span, problem = _span(range_name, start, end)
    if outcome and outcome not in OUTCOMES:
        problem, outcome = f"unknown outcome {outcome[:30]!r}", None
    which = console_reads.ResultFilter(
        start=span.start, end=span.end, outcome=outcome or None, location=location or None
    )
    async with state_of(request.app).transaction() as conn:
        probe = await probe_or_404(conn, seat.project_id, probe_id)
        places = await _health(conn, probe_id, probe.locations)
        charts = await _charts(conn, seat.project_id, probe_id, span)
        offset = (page - 1) * PAGE_SIZE
        rows = await console_reads.result_page(
            conn, seat.project_id, probe_id, which, limit=PAGE_SIZE + 1, offset=offset
        )
        incidents = await health.incidents(conn, seat.project_id, probe_id=probe_id, open_only=True)
    base = f"/console/p/{seat.project_id}/probes/{probe_id}"
    keep = {**span.query(), "outcome": which.outcome or "", "location": which.location or ""}
    return render.page(
        request,
        "probe_detail.html.j2",
        400 if problem else 200,
        seat=seat,
        section="Probes",
        probe=probe,
        places=places,
        span=span,
        problem=problem,
        charts=charts,
        ranges=list(chart_view.RANGES),
        range_urls={name: _url(base, {**keep, "range": name}) for name in chart_view.RANGES},
        which=which,
        outcomes=OUTCOMES,
        rows=rows[:PAGE_SIZE],
        page=page,
        newer=_url(base, {**keep, "page": str(page - 1)}) if page > 1 else None,
        older=_url(base, {**keep, "page": str(page + 1)}) if len(rows) > PAGE_SIZE else None,
        csv_url=_url(f"{base}/results.csv", span.query()),
        incidents=incidents,
        probe_url=base,
        queued=queued,
        plotly_version=content_version("plotly.min.js"),
    )


@router.get("/{probe_id:uuid}/results.csv")
async def export_results(
    *,
    request: Request,
    seat: Member,
    probe_id: uuid.UUID,
    range_name: RangeName = None,
    start: From = None,
    end: To = None,
) -> Response:
    """The range's results as the API exports them (``GET /v1/probes/{id}/results?format=csv``)."""
    try:
        span = chart_view.span_of(range_name, start, end, datetime.now(UTC))
    except BadRange as exc:
        raise Refused(400, str(exc)) from None
    try:
        exported = await results.get_results(
            probe_id=probe_id,
            principal=seat.principal,
            st=state_of(request.app),
            start=span.start,
            end=span.end,
            fmt="csv",
            limit=chart_view.RAW_LIMIT,
        )
    except NotFound:
        raise Refused(404, "no such probe in this project") from None
    name = f"results-{probe_id}-{span.start:%Y%m%dT%H%M}.csv"
    exported.headers["content-disposition"] = f'attachment; filename="{name}"'
    return exported


def _span(name: str | None, start: str | None, end: str | None) -> tuple[Span, str | None]:
    """The span asked for, or the default one with the message saying what was wrong."""
    now = datetime.now(UTC)
    try:
        return chart_view.span_of(name, start, end, now), None
    except BadRange as exc:
        return chart_view.span_of(None, None, None, now), str(exc)


async def probe_or_404(conn: AsyncConn, project_id: uuid.UUID, probe_id: uuid.UUID) -> probes.Probe:
    """The project's probe, or the console's 404 page (also for another project's probe)."""
    try:
        return await probes.get_probe(conn, project_id, probe_id)
    except NotFound:
        raise Refused(404, "no such probe in this project") from None


async def _health(
    conn: AsyncConn, probe_id: uuid.UUID, locations: list[str]
) -> list[LocationHealth]:
    """The probe as a whole, then each of its locations ("unknown" until judged)."""
    found = {row.location: row for row in await health.health_rows(conn, [probe_id])}
    places = ["", *sorted(set(locations) | set(found) - {""})]
    return [
        LocationHealth(label=place or "All locations", state="unknown", since=None, reasons=[])
        if (row := found.get(place)) is None
        else LocationHealth(
            label=place or "All locations", state=row.state, since=row.since, reasons=row.reasons
        )
        for place in places
    ]


async def _charts(
    conn: AsyncConn, project_id: uuid.UUID, probe_id: uuid.UUID, span: Span
) -> chart_view.Charts:
    """Each result for a day or less, hourly buckets (as the results API makes them) beyond."""
    window: dict[str, Any] = {"start": span.start, "end": span.end}
    asr = await console_reads.asr_buckets(
        conn, project_id, probe_id, width=span.asr_width, **window
    )
    if span.raw:
        rows = await results_query.raw_results(
            conn, project_id, probe_id, limit=chart_view.RAW_LIMIT, **window
        )
        return chart_view.raw_document(rows, asr, span)
    buckets = await results_query.bucketed_results(
        conn, project_id, probe_id, width=chart_view.HOURLY, metrics=chart_view.COLUMNS, **window
    )
    return chart_view.bucket_document(buckets, asr, span)


def _url(path: str, params: dict[str, str]) -> str:
    kept = {key: value for key, value in params.items() if value}
    return f"{path}?{urlencode(kept)}" if kept else path
