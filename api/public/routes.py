"""Public status pages: read-only, no login, rate-limited when uncached.

Nothing here reveals probe targets, internal ids or locations: components are
named by their customer-facing name and public id. Unknown slugs and components
are 404. HTML views may be framed only by the origins the page allows.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from typing import Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from api.errors import ErrorBody, invalid
from api.public.site import (
    Rendered,
    base_path,
    cached,
    derived,
    html_policy,
    page_url,
    rendered,
    respond,
    ttl,
    view,
)
from api.state import of as state_of
from statuspages import render, statuspage_json
from statuspages.badges import STATE_COLORS, badge, uptime_color
from statuspages.charts import BUCKETS, charts, window
from statuspages.feed import FeedEntry, atom, rss
from statuspages.sla import SlaReport, month_bounds, report
from statuspages.view import STATE_LABELS, ComponentView, PageView
from store import page_data, state_history, status_pages
from store.errors import NotFound
from store.pool import transaction

router = APIRouter(
    tags=["public status pages"],
    responses={429: {"model": ErrorBody, "description": "Too many uncached requests"}},
)

API_DOCUMENTS = ("summary", "status", "components", "incidents", "scheduled-maintenances")
CHART_DAYS = tuple(BUCKETS)
JSON_HEADERS = {"access-control-allow-origin": "*", "content-security-policy": "default-src 'none'"}
_SLA = re.compile(r"([0-9]{4}-[0-9]{2})(\.json|\.csv)?")


def _component(page: PageView, public_id: str) -> ComponentView:
    for component in page.components:
        if component.public_id == public_id:
            return component
    raise NotFound("no such component on this page")


async def _html(request: Request, slug: str, mode: str) -> Response:
    page = await view(request, slug)
    base = base_path(request, slug)

    async def make() -> Rendered:
        html = render.page_html(page, mode=mode, base=base)
        return rendered(html, "text/html", html_policy(page.page.frame_ancestors))

    return respond(request, await derived(request, page, mode, base, make))


@router.get("/s/{slug}", response_class=Response, summary="Public status page")
async def public_page(slug: str, request: Request) -> Response:
    """The page: banner, components with 90-day bars, incidents, notices."""
    return await _html(request, slug, "page")


@router.get("/s/{slug}/embed", response_class=Response, summary="Embeddable view")
async def embed_page(slug: str, request: Request) -> Response:
    """The page without header and footer, for iframes on the origins the page allows."""
    return await _html(request, slug, "embed")


@router.get("/s/{slug}/wall", response_class=Response, summary="NOC wall view")
async def wall_page(slug: str, request: Request) -> Response:
    """Large type; reloads itself every ``refresh_s`` seconds."""
    return await _html(request, slug, "wall")


@router.get("/s/{slug}/components/{public_id}", response_class=Response)
async def component_page(
    slug: str, public_id: str, request: Request, days: int = Query(7)
) -> Response:
    """A component's detail view: its bar, MOS, jitter, loss and PDD charts over the
    last ``days`` (5 min buckets for 1 day up to 1 day buckets for 90), its incidents."""
    if days not in CHART_DAYS:
        raise invalid(("query", "days"), f"days must be one of {CHART_DAYS}")
    page = await view(request, slug)
    component = _component(page, public_id)
    base = base_path(request, slug)

    async def make() -> tuple[Rendered, float]:
        probe = await _probe_of(request, page, public_id)
        span = window(page.now, days, page.zone)
        async with transaction(state_of(request.app).pool) as conn:
            rows = await page_data.metric_buckets(
                conn, probe, start=span.start, end=span.end, width=span.width, zone=page.zone.key
            )
        figures = await asyncio.to_thread(charts, rows, span, page.zone)
        html = render.component_html(page, component, charts=figures, days=days, base=base)
        out = rendered(html, "text/html", html_policy(page.page.frame_ancestors))
        return out, ttl(request, page.page.refresh_s)

    extra = (public_id, days, base, page.now)
    rendering = await cached(request, slug, "component", extra, make)
    return respond(request, rendering, reads={"days": str(days)})


async def _probe_of(request: Request, page: PageView, public_id: str) -> uuid.UUID:
    async with transaction(state_of(request.app).pool) as conn:
        for component in await status_pages.components(conn, page.page.id):
            if component.public_id == public_id:
                return component.probe_id
    raise NotFound("no such component on this page")


async def _json(request: Request, slug: str, name: str) -> Response:
    page = await view(request, slug)
    url = page_url(request, page.page)

    async def make() -> Rendered:
        document = statuspage_json.document(page, name, url)
        return rendered(json.dumps(document), "application/json", JSON_HEADERS)

    return respond(request, await derived(request, page, "json", name, make))


@router.get("/s/{slug}/api/v2/{document}.json", response_class=Response)
async def statuspage_document(
    slug: str,
    document: Literal["summary", "status", "components", "incidents", "scheduled-maintenances"],
    request: Request,
) -> Response:
    """Atlassian Statuspage v2 compatible JSON (CORS open, like Statuspage's)."""
    return await _json(request, slug, document)


@router.get("/s/{slug}/api/v2/incidents/unresolved.json", response_class=Response)
async def unresolved_incidents(slug: str, request: Request) -> Response:
    """Statuspage v2 compatible: incidents not resolved yet."""
    return await _json(request, slug, "incidents/unresolved")


@router.get("/s/{slug}/history.{feed}", response_class=Response)
async def incident_feed(slug: str, feed: Literal["atom", "rss"], request: Request) -> Response:
    """The page's incidents as an Atom or RSS feed."""
    page = await view(request, slug)
    url = page_url(request, page.page)

    async def make() -> Rendered:
        entries = [
            FeedEntry(
                id=f"{url}/components/{i.component_id}#{int(i.started.timestamp())}",
                title=("Resolved: " if i.ended else "") + i.cause,
                summary=f"{i.cause}. Started {i.started:%Y-%m-%d %H:%M} UTC"
                + (f", resolved {i.ended:%Y-%m-%d %H:%M} UTC." if i.ended else ", ongoing."),
                published=i.started,
                updated=i.ended or i.started,
                link=f"{url}/components/{i.component_id}",
            )
            for i in page.incidents[:50]
        ]
        writer = atom if feed == "atom" else rss
        body = writer(
            title=f"{page.page.name} incidents",
            feed_id=url,
            self_link=f"{url}/history.{feed}",
            page_link=url,
            updated=page.now,
            entries=entries,
        )
        media = "application/atom+xml" if feed == "atom" else "application/rss+xml"
        return rendered(body, media, {"content-security-policy": "default-src 'none'"})

    return respond(request, await derived(request, page, "feed", feed, make))


def _badge(page: PageView, what: str, component: ComponentView | None) -> str:
    label = component.name if component else page.page.name
    if what == "status":
        state = component.state if component else page.state
        message = STATE_LABELS[state] if component else page.banner
        return badge(label, message, STATE_COLORS[state.value])
    share = component.uptime if component else _page_uptime(page)
    text = "no data" if share is None else f"{share * 100:.2f}%"
    return badge(f"{label} uptime", text, uptime_color(share))


def _page_uptime(page: PageView) -> float | None:
    shares = [c.uptime for c in page.components if c.uptime is not None]
    return min(shares) if shares else None


async def _badge_response(
    request: Request, slug: str, what: str, public_id: str | None
) -> Response:
    page = await view(request, slug)
    component = _component(page, public_id) if public_id else None

    async def make() -> Rendered:
        return rendered(
            _badge(page, what, component),
            "image/svg+xml",
            {"content-security-policy": "default-src 'none'; style-src 'unsafe-inline'"},
        )

    return respond(request, await derived(request, page, "badge", (what, public_id), make))


@router.get("/s/{slug}/badge/{what}.svg", response_class=Response)
async def page_badge(slug: str, what: Literal["status", "uptime"], request: Request) -> Response:
    """An SVG badge: the page's banner, or its lowest component uptime over the bar."""
    return await _badge_response(request, slug, what, None)


@router.get("/s/{slug}/components/{public_id}/badge/{what}.svg", response_class=Response)
async def component_badge(
    slug: str, public_id: str, what: Literal["status", "uptime"], request: Request
) -> Response:
    """An SVG badge of one component's state or uptime."""
    return await _badge_response(request, slug, what, public_id)


@router.get("/s/{slug}/sla", response_class=RedirectResponse, status_code=307)
async def sla_current(slug: str, request: Request) -> RedirectResponse:
    """This month's SLA report."""
    page = await view(request, slug)
    month = page.now.astimezone(page.zone).strftime("%Y-%m")
    return RedirectResponse(f"{base_path(request, slug)}/sla/{month}", status_code=307)


@router.get("/s/{slug}/sla/{month}", response_class=Response)
async def sla_report(slug: str, month: str, request: Request) -> Response:
    """Per component for a month (``2026-11``, ``.json`` or ``.csv``): uptime %,
    downtime, no-data and maintenance minutes, incidents."""
    match = _SLA.fullmatch(month)
    page = await view(request, slug)
    try:
        start, end = month_bounds(match[1] if match else month, page.zone)
    except ValueError as exc:
        raise invalid(("path", "month"), f"{exc}; add .json or .csv for data") from exc
    if start > page.now:
        raise invalid(("path", "month"), "that month has not started yet")
    assert match is not None
    fmt, base = match[2] or ".html", base_path(request, slug)

    async def make() -> tuple[Rendered, float]:
        async with transaction(state_of(request.app).pool) as conn:
            components = await status_pages.components(conn, page.page.id)
            ids = [c.probe_id for c in components]
            until = min(end, page.now)
            histories = await state_history.state_histories(conn, ids, start, until)
            windows = await page_data.planned_windows(
                conn, page.page.project_id, page.page.id, ids, start=start, end=end
            )
        result = report(
            page.page, month=match[1], components=components, histories=histories,
            windows=windows, now=page.now,
        )  # fmt: skip
        return _sla_rendering(page, result, fmt, base), ttl(request, page.page.refresh_s)

    return respond(request, await cached(request, slug, "sla", (month, base, page.now), make))


def _sla_rendering(page: PageView, result: SlaReport, fmt: str, base: str) -> Rendered:
    if fmt == ".csv":
        return rendered(render.sla_csv(result), "text/csv; charset=utf-8")
    if fmt == ".json":
        rows = [
            {
                "component": row.component,
                "uptime_pct": None if row.uptime is None else round(row.uptime * 100, 3),
                "downtime_min": row.downtime_min,
                "no_data_min": row.no_data_min,
                "maintenance_min": row.maintenance_min,
                "incidents": row.incidents,
            }
            for row in result.rows
        ]
        document = {
            "page": page.page.name,
            "month": result.month,
            "start": result.start.isoformat(),
            "end": result.end.isoformat(),
            "degraded_counts_as_up": page.page.degraded_is_up,
            "components": rows,
        }
        return rendered(json.dumps(document), "application/json", JSON_HEADERS)
    html = render.sla_html(page, result, base=base)
    return rendered(html, "text/html", html_policy(page.page.frame_ancestors))


@router.get("/s/{slug}/images/{slot}", response_class=Response)
async def page_image(
    slug: str, slot: Literal["header_logo", "footer_logo", "background"], request: Request
) -> Response:
    """A branding image (SVGs were sanitized on upload and are sandboxed here)."""
    page = await view(request, slug)

    async def make() -> tuple[Rendered, float]:
        async with transaction(state_of(request.app).pool) as conn:
            stored = await status_pages.image(conn, page.page.id, slot)
        if stored is None:
            raise NotFound("this page has no such image")
        policy = {
            "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox"
        }
        return rendered(stored.data, stored.media_type, policy), ttl(request, page.page.refresh_s)

    return respond(request, await cached(request, slug, "image", (slot, page.now), make))
