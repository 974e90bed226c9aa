"""Management of the caller's project's status pages (API key; reads need read scope).

Every write announces the page's slug, so each API process drops what it cached
for the page when the write commits; the process that made the write drops it
before answering, so a deleted page 404s at once.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Request, Response

from api.errors import invalid
from api.middleware.body_limit import read_limited
from api.public.domains import verify_domain
from api.public.renderings import forget
from api.public.urls import page_urls
from api.schemas.announcements import AnnouncementCreate, AnnouncementOut
from api.schemas.pages import (
    IMAGE_UPLOAD,
    ComponentIn,
    PageCreate,
    PageOut,
    PageUpdate,
    domain_out,
    page_out,
)
from api.security.auth import Reader, Writer
from api.services import audit
from api.services.snapshots import page_settings, settings
from api.state import AppState, State
from statuspages.images import ImageRejected, validate_image
from store import page_events, quotas, status_pages
from store.errors import QuotaExceeded
from store.pool import AsyncConn
from store.status_pages import Page

router = APIRouter(prefix="/v1/pages", tags=["status pages"])

IMAGE_SLOTS = ("header_logo", "footer_logo", "background")
MAX_IMAGE_BYTES = 512 * 1024


def _out(request: Request, page: Page, components: list[status_pages.Component]) -> PageOut:
    return page_out(page, components, page_urls(request, page.slug))


def _check_component_quota(st: AppState, components: list[ComponentIn] | None) -> None:
    limit = st.settings.max_components_per_page
    if components is not None and len(components) > limit:
        raise QuotaExceeded(f"a page may show at most {limit} components, not {len(components)}")


@asynccontextmanager
async def _changing(
    st: AppState, request: Request, project_id: uuid.UUID, page_id: uuid.UUID
) -> AsyncIterator[tuple[AsyncConn, Page]]:
    """A transaction on one of the project's pages, announced when the block succeeds."""
    async with st.transaction() as conn:
        page = await status_pages.get_page(conn, project_id, page_id)
        yield conn, page
        await page_events.announce(conn, page.slug)
    forget(request, (page.slug,))


async def _set_components(
    conn: AsyncConn, project_id: uuid.UUID, page_id: uuid.UUID, components: list[ComponentIn]
) -> list[status_pages.Component]:
    foreign = await status_pages.foreign_probes(conn, project_id, [c.probe_id for c in components])
    if foreign:
        unknown = ", ".join(sorted(str(probe) for probe in foreign))
        raise invalid(("body", "components"), f"unknown probe ids: {unknown}")
    fields = [c.stored() for c in components]
    return await status_pages.set_components(conn, page_id, fields)


@router.post("", status_code=201, response_model=PageOut)
async def create_page(body: PageCreate, principal: Writer, request: Request, st: State) -> PageOut:
    """Publish a new page at ``/s/<slug>`` (409 ``quota_exceeded`` past the project's
    page quota or the per-page component quota)."""
    _check_component_quota(st, body.components)
    fields = body.model_dump(exclude={"components"})
    async with st.transaction() as conn:
        limit = st.settings.max_pages_per_project
        await quotas.claim(conn, principal.project_id, "pages", limit)
        page = await status_pages.create_page(conn, principal.project_id, fields)
        components = await _set_components(conn, principal.project_id, page.id, body.components)
        after = page_settings(page, components)
        await audit.record(conn, principal, "create", "status_page", page.id, after=after)
        await page_events.announce(conn, page.slug)
    forget(request, (page.slug,))
    return _out(request, page, components)


@router.get("", response_model=list[PageOut])
async def list_pages(principal: Reader, request: Request, st: State) -> list[PageOut]:
    """The project's pages by slug."""
    async with st.transaction() as conn:
        pages = await status_pages.list_pages(conn, principal.project_id)
        return [_out(request, p, await status_pages.components(conn, p.id)) for p in pages]


@router.get("/{page_id}", response_model=PageOut)
async def get_page(page_id: uuid.UUID, principal: Reader, request: Request, st: State) -> PageOut:
    """One page with its components and public URLs."""
    async with st.transaction() as conn:
        page = await status_pages.get_page(conn, principal.project_id, page_id)
        return _out(request, page, await status_pages.components(conn, page.id))


@router.patch("/{page_id}", response_model=PageOut)
async def update_page(
    page_id: uuid.UUID, body: PageUpdate, principal: Writer, request: Request, st: State
) -> PageOut:
    """Change some fields; ``components`` replaces the list (probes are never touched)."""
    _check_component_quota(st, body.components)
    fields: dict[str, Any] = body.model_dump(exclude_unset=True, exclude={"components"})
    async with st.transaction() as conn:
        before = await status_pages.get_page(conn, principal.project_id, page_id)
        shown = page_settings(before, await status_pages.components(conn, page_id))
        page = await status_pages.update_page(
            conn,
            principal.project_id,
            page_id,
            fields,
            reserve_days=st.settings.slug_reservation_days,
        )
        if body.components is not None:
            await _set_components(conn, principal.project_id, page_id, body.components)
        components = await status_pages.components(conn, page_id)
        await audit.record(
            conn, principal, "update", "status_page", page_id,
            before=shown, after=page_settings(page, components),
        )  # fmt: skip
        await page_events.announce(conn, before.slug)
        await page_events.announce(conn, page.slug)
    forget(request, (before.slug, page.slug))
    return _out(request, page, components)


@router.delete("/{page_id}", status_code=204, response_class=Response)
async def delete_page(page_id: uuid.UUID, principal: Writer, request: Request, st: State) -> None:
    """Unpublish a page: its URL answers 404 from now on (its probes stay); its slug stays
    reserved to the project for ``CALLPROBE_SLUG_RESERVATION_DAYS``."""
    async with st.transaction() as conn:
        gone = await status_pages.get_page(conn, principal.project_id, page_id)
        shown = page_settings(gone, await status_pages.components(conn, page_id))
        slug = await status_pages.delete_page(
            conn, principal.project_id, page_id, reserve_days=st.settings.slug_reservation_days
        )
        await audit.record(conn, principal, "delete", "status_page", page_id, before=shown)
        await page_events.announce(conn, slug)
    forget(request, (slug,))


@router.put(
    "/{page_id}/images/{slot}",
    response_model=PageOut,
    openapi_extra=IMAGE_UPLOAD,
)
async def put_image(
    page_id: uuid.UUID, slot: str, principal: Writer, request: Request, st: State
) -> PageOut:
    """Upload a header or footer logo or a header background (PNG, JPEG, WebP or SVG,
    at most 512 KiB). SVGs with scripts, event handlers or external references are
    refused; the type is read from the content, not the request."""
    _check_slot(slot)
    async with st.transaction() as conn:
        await status_pages.get_page(conn, principal.project_id, page_id)
    data = await read_limited(request, MAX_IMAGE_BYTES, "image")
    try:
        image = validate_image(data, max_bytes=MAX_IMAGE_BYTES)
    except ImageRejected as exc:
        raise invalid(("body",), str(exc)) from exc
    async with _changing(st, request, principal.project_id, page_id) as (conn, before):
        await status_pages.put_image(conn, before.id, slot, image.media_type, image.data)
        await audit.record(
            conn, principal, "put_image", "status_page", page_id,
            after={"slot": slot, "media_type": image.media_type, "bytes": len(image.data)},
        )  # fmt: skip
        page = await status_pages.get_page(conn, principal.project_id, page_id)
        components = await status_pages.components(conn, page_id)
    return _out(request, page, components)


@router.delete("/{page_id}/images/{slot}", status_code=204, response_class=Response)
async def delete_image(
    page_id: uuid.UUID, slot: str, principal: Writer, request: Request, st: State
) -> None:
    """Remove a branding image."""
    _check_slot(slot)
    async with _changing(st, request, principal.project_id, page_id) as (conn, page):
        await status_pages.delete_image(conn, page.id, slot)
        await audit.record(
            conn, principal, "delete_image", "status_page", page_id, before={"slot": slot}
        )


def _check_slot(slot: str) -> None:
    if slot not in IMAGE_SLOTS:
        raise invalid(("path", "slot"), f"slot must be one of {', '.join(IMAGE_SLOTS)}")


@router.post("/{page_id}/announcements", status_code=201, response_model=AnnouncementOut)
async def create_announcement(
    page_id: uuid.UUID,
    body: AnnouncementCreate,
    principal: Writer,
    request: Request,
    st: State,
) -> status_pages.Announcement:
    """Post a notice on the page (shown as text, never as HTML)."""
    async with _changing(st, request, principal.project_id, page_id) as (conn, page):
        made = await status_pages.create_announcement(
            conn, page.id, title=body.title, body=body.body,
            starts_at=body.starts_at, ends_at=body.ends_at,
        )  # fmt: skip
        await audit.record(conn, principal, "create", "announcement", made.id, after=settings(made))
        return made


@router.get("/{page_id}/announcements", response_model=list[AnnouncementOut])
async def list_announcements(
    page_id: uuid.UUID, principal: Reader, st: State
) -> list[status_pages.Announcement]:
    """The page's notices, newest first."""
    async with st.transaction() as conn:
        page = await status_pages.get_page(conn, principal.project_id, page_id)
        return await status_pages.announcements(conn, page.id)


@router.delete(
    "/{page_id}/announcements/{announcement_id}", status_code=204, response_class=Response
)
async def delete_announcement(
    page_id: uuid.UUID,
    announcement_id: uuid.UUID,
    principal: Writer,
    request: Request,
    st: State,
) -> None:
    """Take a notice down."""
    async with _changing(st, request, principal.project_id, page_id) as (conn, page):
        await status_pages.delete_announcement(conn, page.id, announcement_id)
        await audit.record(conn, principal, "delete", "announcement", announcement_id)


@router.post("/{page_id}/domain/verify", response_model=PageOut)
async def verify_page_domain(
    page_id: uuid.UUID, principal: Writer, request: Request, st: State
) -> PageOut:
    """Look up the custom domain's TXT record; the page answers on that domain once it
    holds ``txt_value``, and any other page's claim of the domain is dropped."""
    async with st.transaction() as conn:
        page = await status_pages.get_page(conn, principal.project_id, page_id)
    domain = domain_out(page)
    if domain is None:
        raise invalid(("body",), "the page has no custom_domain to verify")
    await verify_domain(domain.txt_record, domain.txt_value, st.settings)
    async with st.transaction() as conn:
        dropped = await status_pages.mark_domain_verified(conn, page.id, domain.name)
        await audit.record(
            conn, principal, "verify_domain", "status_page", page.id, after={"domain": domain.name}
        )
        for slug in (page.slug, *dropped):
            await page_events.announce(conn, slug)
        page = await status_pages.get_page(conn, principal.project_id, page_id)
        components = await status_pages.components(conn, page_id)
    forget(request, (page.slug, *dropped))
    return _out(request, page, components)
