"""Public status pages: read-only, no login, rate-limited when uncached.

Nothing here reveals probe targets, internal ids or locations: components are
named by their customer-facing name and public id. Unknown slugs and components
are 404. HTML views may be framed only by the origins the page allows.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from api.errors import ErrorBody, invalid
from api.public.renderings import cached, derived, respond, ttl, view
from api.public.responses import (
    FEED_HEADERS,
    IMAGE_HEADERS,
    JSON_HEADERS,
    SVG_HEADERS,
    Rendered,
    html_policy,
    rendered,
)
from api.public.urls import base_path, page_url
from api.state import of as state_of
from statuspages import load, render, statuspage_json, warning
from statuspages.badges import view_badge
from statuspages.charts import BUCKETS, charts, window
from statuspages.feed import page_feed
from statuspages.sla import SlaReport, month_bounds
from statuspages.view import ComponentView, PageView
from store.errors import NotFound

router = APIRouter(
    tags=["public status pages"],
    responses={429: {"model": ErrorBody, "description": "Too many uncached requests"}},
)

API_DOCUMENTS = ("summary", "status", "components", "incidents", "scheduled-maintenances")
CHART_DAYS = tuple(BUCKETS)
_SLA = re.compile(r"([0-9]{4}-[0-9]{2})(\.json|\.csv)?")


def _component(page: PageView, public_id: str) -> ComponentView:
    component = page.component(public_id)
    if component is None:
        raise NotFound("no such component on this page")
    return component


def _html(page: PageView, html: str) -> Rendered:
    return rendered(html, "text/html", html_policy(page.page.frame_ancestors))


async def _page_html(request: Request, slug: str, mode: str) -> Response:
    page = await view(request, slug)
    base = base_path(request, slug)

    async def make() -> Rendered:
        return _html(page, render.page_html(page, mode=mode, base=base))

    return respond(request, await derived(request, page, mode, base, make))


@router.get("/s/{slug}", response_class=Response, summary="Public status page")
async def public_page(slug: str, request: Request) -> Response:
    """The page: banner, components with 90-day bars, incidents, notices."""
    return await _page_html(request, slug, "page")


@router.get("/s/{slug}/embed", response_class=Response, summary="Embeddable view")
async def embed_page(slug: str, request: Request) -> Response:
    """The page without header and footer, for iframes on the origins the page allows."""
    return await _page_html(request, slug, "embed")


@router.get("/s/{slug}/wall", response_class=Response, summary="NOC wall view")
async def wall_page(slug: str, request: Request) -> Response:
    """Large type; reloads itself every ``refresh_s`` seconds."""
    return await _page_html(request, slug, "wall")


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
        span = window(page.now, days, page.zone)
        async with state_of(request.app).transaction() as conn:
            rows = await load.component_series(conn, page, public_id, span)
        figures = await asyncio.to_thread(charts, rows, span, page.zone)
        html = render.component_html(page, component, charts=figures, days=days, base=base)
        return _html(page, html), ttl(request, page.page.refresh_s)

    extra = (public_id, days, base, page.now)
    rendering = await cached(request, slug, "component", extra, make)
    return respond(request, rendering, reads={"days": str(days)})


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


@router.get("/s/{slug}/api/warning.json", response_class=Response)
async def support_warning(
    slug: str,
    request: Request,
    after_minutes: int = Query(warning.DEFAULT_AFTER_MINUTES, ge=0, le=warning.MAX_AFTER_MINUTES),
) -> Response:
    """For a support site's banner (``/static/warning.js``): ``show`` is true once a
    component has been unhealthy for ``after_minutes`` minutes (CORS open)."""
    page = await view(request, slug)
    url = page_url(request, page.page)

    async def make() -> Rendered:
        document = warning.document(warning.site_warning(page, url, after_minutes))
        return rendered(json.dumps(document), "application/json", JSON_HEADERS)

    rendering = await derived(request, page, "warning", after_minutes, make)
    return respond(request, rendering, reads={"after_minutes": str(after_minutes)})


@router.get("/s/{slug}/history.{feed}", response_class=Response)
async def incident_feed(slug: str, feed: Literal["atom", "rss"], request: Request) -> Response:
    """The page's incidents as an Atom or RSS feed."""
    page = await view(request, slug)
    url = page_url(request, page.page)

    async def make() -> Rendered:
        media = "application/atom+xml" if feed == "atom" else "application/rss+xml"
        return rendered(page_feed(page, url, feed), media, FEED_HEADERS)

    return respond(request, await derived(request, page, "feed", feed, make))


async def _badge(request: Request, slug: str, what: str, public_id: str | None) -> Response:
    page = await view(request, slug)
    component = _component(page, public_id) if public_id else None

    async def make() -> Rendered:
        return rendered(view_badge(page, what, component), "image/svg+xml", SVG_HEADERS)

    return respond(request, await derived(request, page, "badge", (what, public_id), make))


@router.get("/s/{slug}/badge/{what}.svg", response_class=Response)
async def page_badge(slug: str, what: Literal["status", "uptime"], request: Request) -> Response:
    """An SVG badge: the page's banner, or its lowest component uptime over the bar."""
    return await _badge(request, slug, what, None)


@router.get("/s/{slug}/components/{public_id}/badge/{what}.svg", response_class=Response)
async def component_badge(
    slug: str, public_id: str, what: Literal["status", "uptime"], request: Request
) -> Response:
    """An SVG badge of one component's state or uptime."""
    return await _badge(request, slug, what, public_id)


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
        start, _ = month_bounds(match[1] if match else month, page.zone)
    except ValueError as exc:
        raise invalid(("path", "month"), f"{exc}; add .json or .csv for data") from exc
    if start > page.now:
        raise invalid(("path", "month"), "that month has not started yet")
    assert match is not None
    fmt, base = match[2] or ".html", base_path(request, slug)

    async def make() -> tuple[Rendered, float]:
        async with state_of(request.app).transaction() as conn:
            result = await load.sla_report(conn, page, match[1])
        return _sla_rendering(page, result, fmt, base), ttl(request, page.page.refresh_s)

    return respond(request, await cached(request, slug, "sla", (month, base, page.now), make))


def _sla_rendering(page: PageView, result: SlaReport, fmt: str, base: str) -> Rendered:
    if fmt == ".csv":
        return rendered(render.sla_csv(result), "text/csv; charset=utf-8")
    if fmt == ".json":
        return rendered(render.sla_json(page, result), "application/json", JSON_HEADERS)
    return _html(page, render.sla_html(page, result, base=base))


@router.get("/s/{slug}/images/{slot}", response_class=Response)
async def page_image(
    slug: str,
    slot: Literal["header_logo", "footer_logo", "background"],
    request: Request,
) -> Response:
    """A branding image (SVGs were sanitized on upload and are sandboxed here)."""
    page = await view(request, slug)

    async def make() -> tuple[Rendered, float]:
        async with state_of(request.app).transaction() as conn:
            stored = await load.image(conn, page, slot)
        out = rendered(stored.data, stored.media_type, IMAGE_HEADERS)
        return out, ttl(request, page.page.refresh_s)

    return respond(request, await cached(request, slug, "image", (slot, page.now), make))
