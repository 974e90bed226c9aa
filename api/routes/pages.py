"""Management of the caller's project's status pages (API key; reads need read scope).

Every write announces the page's slug, so each API process drops what it cached
for the page when the write commits; the process that made the write drops it
before answering, so a deleted page 404s at once.
"""

from __future__ import annotations

import html
import uuid
from typing import Any

from fastapi import APIRouter, Request, Response

from api.errors import invalid
from api.public.domains import verify_domain
from api.public.site import forget
from api.routes import db
from api.schemas.pages import (
    AnnouncementCreate,
    AnnouncementOut,
    ComponentIn,
    ComponentOut,
    DomainOut,
    PageCreate,
    PageOut,
    PageUpdate,
    PageUrls,
)
from api.security.auth import Reader, Writer
from api.state import of as state_of
from statuspages.images import ImageRejected, validate_image
from store import page_events, quotas, status_pages
from store.errors import QuotaExceeded
from store.pool import AsyncConn
from store.status_pages import ComponentFields, Page

router = APIRouter(prefix="/v1/pages", tags=["status pages"])

IMAGE_SLOTS = ("header_logo", "footer_logo", "background")
MAX_IMAGE_BYTES = 512 * 1024
TXT_PREFIX = "_callprobe-challenge"


def _urls(request: Request, slug: str) -> PageUrls:
    base = f"{state_of(request.app).settings.public_url.rstrip('/')}/s/{slug}"
    return PageUrls(
        page=base,
        embed=f"{base}/embed",
        wall=f"{base}/wall",
        summary_json=f"{base}/api/v2/summary.json",
        atom=f"{base}/history.atom",
        sla=f"{base}/sla",
        status_badge=f"{base}/badge/status.svg",
        uptime_badge=f"{base}/badge/uptime.svg",
    )


def _out(request: Request, page: Page, components: list[status_pages.Component]) -> PageOut:
    urls = _urls(request, page.slug)
    snippet = (
        f'<iframe src="{html.escape(urls.embed)}" title="{html.escape(page.name)} status"'
        ' style="border:0;width:100%;height:640px" loading="lazy"></iframe>'
    )
    note = (
        None
        if page.frame_ancestors
        else "Browsers refuse to show the embed until frame_ancestors lists the embedding"
        " site's origin, e.g. https://support.example.com"
    )
    domain = (
        None
        if page.custom_domain is None
        else DomainOut(
            name=page.custom_domain,
            txt_record=f"{TXT_PREFIX}.{page.custom_domain}",
            txt_value=f"callprobe-verification={page.domain_token}",
            verified=page.domain_verified_at is not None,
        )
    )
    return PageOut(
        **{name: getattr(page, name) for name in PageOut.model_fields if hasattr(page, name)}
        | {"custom_domain": domain},
        components=[
            ComponentOut(
                probe_id=c.probe_id,
                public_id=c.public_id,
                name=c.name,
                description=c.description,
                group=c.group_name,
            )
            for c in components
        ],
        urls=urls,
        embed_snippet=snippet,
        embed_note=note,
    )


def _check_component_quota(request: Request, components: list[ComponentIn] | None) -> None:
    limit = state_of(request.app).settings.max_components_per_page
    if components is not None and len(components) > limit:
        raise QuotaExceeded(f"a page may show at most {limit} components, not {len(components)}")


async def _set_components(
    conn: AsyncConn, project_id: uuid.UUID, page_id: uuid.UUID, components: list[ComponentIn]
) -> list[status_pages.Component]:
    foreign = await status_pages.foreign_probes(conn, project_id, [c.probe_id for c in components])
    if foreign:
        unknown = ", ".join(sorted(str(probe) for probe in foreign))
        raise invalid(("body", "components"), f"unknown probe ids: {unknown}")
    fields = [
        ComponentFields(
            probe_id=c.probe_id, name=c.name, description=c.description, group_name=c.group
        )
        for c in components
    ]
    return await status_pages.set_components(conn, page_id, fields)


@router.post("", status_code=201, response_model=PageOut)
async def create_page(body: PageCreate, principal: Writer, request: Request) -> PageOut:
    """Publish a new page at ``/s/<slug>`` (409 ``quota_exceeded`` past the project's
    page quota or the per-page component quota)."""
    _check_component_quota(request, body.components)
    fields = body.model_dump(exclude={"components"})
    async with db(request) as conn:
        limit = state_of(request.app).settings.max_pages_per_project
        await quotas.claim(conn, principal.project_id, "pages", limit)
        page = await status_pages.create_page(conn, principal.project_id, fields)
        components = await _set_components(conn, principal.project_id, page.id, body.components)
        await page_events.announce(conn, page.slug)
    forget(request, (page.slug,))
    return _out(request, page, components)


@router.get("", response_model=list[PageOut])
async def list_pages(principal: Reader, request: Request) -> list[PageOut]:
    """The project's pages by slug."""
    async with db(request) as conn:
        pages = await status_pages.list_pages(conn, principal.project_id)
        return [_out(request, p, await status_pages.components(conn, p.id)) for p in pages]


@router.get("/{page_id}", response_model=PageOut)
async def get_page(page_id: uuid.UUID, principal: Reader, request: Request) -> PageOut:
    """One page with its components and public URLs."""
    async with db(request) as conn:
        page = await status_pages.get_page(conn, principal.project_id, page_id)
        return _out(request, page, await status_pages.components(conn, page.id))


@router.patch("/{page_id}", response_model=PageOut)
async def update_page(
    page_id: uuid.UUID, body: PageUpdate, principal: Writer, request: Request
) -> PageOut:
    """Change some fields; ``components`` replaces the list (probes are never touched)."""
    _check_component_quota(request, body.components)
    fields: dict[str, Any] = body.model_dump(exclude_unset=True, exclude={"components"})
    async with db(request) as conn:
        before = await status_pages.get_page(conn, principal.project_id, page_id)
        page = await status_pages.update_page(
            conn, principal.project_id, page_id, fields, reserve_days=_reserve_days(request)
        )
        if body.components is not None:
            await _set_components(conn, principal.project_id, page_id, body.components)
        components = await status_pages.components(conn, page_id)
        await page_events.announce(conn, before.slug)
        await page_events.announce(conn, page.slug)
    forget(request, (before.slug, page.slug))
    return _out(request, page, components)


@router.delete("/{page_id}", status_code=204, response_class=Response)
async def delete_page(page_id: uuid.UUID, principal: Writer, request: Request) -> None:
    """Unpublish a page: its URL answers 404 from now on (its probes stay); its slug stays
    reserved to the project for ``CALLPROBE_SLUG_RESERVATION_DAYS``."""
    async with db(request) as conn:
        slug = await status_pages.delete_page(
            conn, principal.project_id, page_id, reserve_days=_reserve_days(request)
        )
        await page_events.announce(conn, slug)
    forget(request, (slug,))


@router.put(
    "/{page_id}/images/{slot}",
    response_model=PageOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                t: {"schema": {"type": "string", "format": "binary"}}
                for t in ("image/svg+xml", "image/png", "image/jpeg", "image/webp")
            },
        }
    },
)
async def put_image(page_id: uuid.UUID, slot: str, principal: Writer, request: Request) -> PageOut:
    """Upload a header or footer logo or a header background (PNG, JPEG, WebP or SVG,
    at most 512 KiB). SVGs with scripts, event handlers or external references are
    refused; the type is read from the content, not the request."""
    _check_slot(slot)
    async with db(request) as conn:
        await status_pages.get_page(conn, principal.project_id, page_id)
    data = await _read_limited(request, MAX_IMAGE_BYTES)
    try:
        image = validate_image(data, max_bytes=MAX_IMAGE_BYTES)
    except ImageRejected as exc:
        raise invalid(("body",), str(exc)) from exc
    async with db(request) as conn:
        page = await status_pages.get_page(conn, principal.project_id, page_id)
        await status_pages.put_image(conn, page.id, slot, image.media_type, image.data)
        await page_events.announce(conn, page.slug)
        page = await status_pages.get_page(conn, principal.project_id, page_id)
        components = await status_pages.components(conn, page_id)
    forget(request, (page.slug,))
    return _out(request, page, components)


@router.delete("/{page_id}/images/{slot}", status_code=204, response_class=Response)
async def delete_image(page_id: uuid.UUID, slot: str, principal: Writer, request: Request) -> None:
    """Remove a branding image."""
    _check_slot(slot)
    async with db(request) as conn:
        page = await status_pages.get_page(conn, principal.project_id, page_id)
        await status_pages.delete_image(conn, page.id, slot)
        await page_events.announce(conn, page.slug)
    forget(request, (page.slug,))


def _reserve_days(request: Request) -> int:
    days: int = state_of(request.app).settings.slug_reservation_days
    return days


def _check_slot(slot: str) -> None:
    if slot not in IMAGE_SLOTS:
        raise invalid(("path", "slot"), f"slot must be one of {', '.join(IMAGE_SLOTS)}")


async def _read_limited(request: Request, limit: int) -> bytes:
    """The request body, refused once it passes ``limit`` bytes (not read further)."""
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise invalid(("body",), f"image is larger than {limit // 1024} KiB")
    return bytes(data)


@router.post("/{page_id}/announcements", status_code=201, response_model=AnnouncementOut)
async def create_announcement(
    page_id: uuid.UUID, body: AnnouncementCreate, principal: Writer, request: Request
) -> AnnouncementOut:
    """Post a notice on the page (shown as text, never as HTML)."""
    async with db(request) as conn:
        page = await status_pages.get_page(conn, principal.project_id, page_id)
        row = await status_pages.create_announcement(
            conn, page.id, title=body.title, body=body.body,
            starts_at=body.starts_at, ends_at=body.ends_at,
        )  # fmt: skip
        await page_events.announce(conn, page.slug)
    forget(request, (page.slug,))
    return AnnouncementOut.model_validate(row, from_attributes=True)


@router.get("/{page_id}/announcements", response_model=list[AnnouncementOut])
async def list_announcements(
    page_id: uuid.UUID, principal: Reader, request: Request
) -> list[AnnouncementOut]:
    """The page's notices, newest first."""
    async with db(request) as conn:
        page = await status_pages.get_page(conn, principal.project_id, page_id)
        rows = await status_pages.announcements(conn, page.id)
    return [AnnouncementOut.model_validate(row, from_attributes=True) for row in rows]


@router.delete(
    "/{page_id}/announcements/{announcement_id}", status_code=204, response_class=Response
)
async def delete_announcement(
    page_id: uuid.UUID, announcement_id: uuid.UUID, principal: Writer, request: Request
) -> None:
    """Take a notice down."""
    async with db(request) as conn:
        page = await status_pages.get_page(conn, principal.project_id, page_id)
        await status_pages.delete_announcement(conn, page.id, announcement_id)
        await page_events.announce(conn, page.slug)
    forget(request, (page.slug,))


@router.post("/{page_id}/domain/verify", response_model=PageOut)
async def verify_page_domain(page_id: uuid.UUID, principal: Writer, request: Request) -> PageOut:
    """Look up the custom domain's TXT record; the page answers on that domain once it
    holds ``txt_value``, and any other page's claim of the domain is dropped."""
    async with db(request) as conn:
        page = await status_pages.get_page(conn, principal.project_id, page_id)
    if page.custom_domain is None:
        raise invalid(("body",), "the page has no custom_domain to verify")
    await verify_domain(
        f"{TXT_PREFIX}.{page.custom_domain}",
        f"callprobe-verification={page.domain_token}",
        state_of(request.app).settings,
    )
    async with db(request) as conn:
        dropped = await status_pages.mark_domain_verified(conn, page.id, page.custom_domain)
        for slug in (page.slug, *dropped):
            await page_events.announce(conn, slug)
        page = await status_pages.get_page(conn, principal.project_id, page_id)
        components = await status_pages.components(conn, page_id)
    forget(request, (page.slug, *dropped))
    return _out(request, page, components)
