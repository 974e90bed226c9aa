"""Status pages: the list, "New status page" (name, slug and probes as components) and
the editor (settings, components, branding images, custom domain, announcements and
maintenance windows). Every change is a call of the API's own route function; a refusal
comes back as messages beside the fields.

The preview is the page's view model, loaded server-side by the same loader the public
page uses (``statuspages.load.page_view``) and shown as the banner and the components'
states, next to a link to the public page: an ``<iframe>`` of the page would be refused
by the page's own frame-ancestors unless it allowed the console's origin.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from api.console import forms, page_parts, render
from api.console.forms import Problems
from api.console.page_parts import text
from api.console.session import Form, Member, Refused, Seat, editor
from api.routes import maintenance as api_maintenance
from api.routes import pages as api_pages
from api.schemas.pages import PageCreate, PageUpdate
from api.state import of as state_of
from statuspages import load
from store import probes, status_pages
from store.errors import NotFound

router = APIRouter(prefix="/console/p/{project_id}/pages", include_in_schema=False)

T = TypeVar("T")


@router.get("", response_class=HTMLResponse)
async def pages_list(request: Request, seat: Member) -> Response:
    return await _list(request, seat)


@router.post("", response_class=Response)
async def create_page(request: Request, seat: Member, posted: Form) -> Response:
    """A new page showing the chosen probes under their own names (renamed in the editor)."""
    editor(seat)
    st, problems = state_of(request.app), Problems()
    async with st.transaction() as conn:
        names = {str(p.id): p.name for p in await probes.list_probes(conn, seat.project_id)}
    chosen = [str(v) for v in posted.getlist("probe")]
    draft = {"name": text(posted, "name"), "slug": text(posted, "slug"), "components": [
        {"probe_id": probe, "name": names.get(probe, probe)} for probe in chosen
    ]}  # fmt: skip
    body = forms.parse(PageCreate, draft, problems)
    made = None
    if body is not None:
        made = await forms.attempt(
            lambda: api_pages.create_page(body, seat.principal, request, st), problems
        )
    if made is None:
        placed = page_parts.beside(problems, "name", "slug", "components")
        return await _list(request, seat, problems=placed, draft=draft, chosen=chosen)
    return render.redirect(f"{_base(seat)}/{made.id}")


@router.get("/{page_id}", response_class=HTMLResponse)
async def page_editor(request: Request, page_id: uuid.UUID, seat: Member) -> Response:
    return await show_editor(request, seat, page_id)


@router.post("/{page_id}", response_class=Response)
async def save_settings(
    request: Request, page_id: uuid.UUID, seat: Member, posted: Form
) -> Response:
    editor(seat)
    values = page_parts.posted_settings(posted)
    body = page_parts.settings_body(values)
    return await _update(request, seat, page_id, body, "settings", settings=values)


@router.post("/{page_id}/components", response_class=Response)
async def save_components(
    request: Request, page_id: uuid.UUID, seat: Member, posted: Form
) -> Response:
    """Save the table; a row's ↑, ↓ or Remove button moves or drops it first, and the
    probe picked under "Add" joins at the end under its own name."""
    editor(seat)
    rows = page_parts.posted_components(posted)
    added = text(posted, "add_probe")
    if added:
        async with state_of(request.app).transaction() as conn:
            names = {str(p.id): p.name for p in await probes.list_probes(conn, seat.project_id)}
        rows.append({"probe_id": added, "name": names.get(added, added), "description": ""})
    body = {"components": rows}
    return await _update(request, seat, page_id, body, "components", components=rows)


@router.post("/{page_id}/delete", response_class=Response)
async def delete_page(request: Request, page_id: uuid.UUID, seat: Member, posted: Form) -> Response:
    editor(seat)
    st = state_of(request.app)
    await _found(api_pages.delete_page(page_id, seat.principal, request, st))
    return render.redirect(_base(seat))


@router.post("/{page_id}/images/{slot}", response_class=Response)
async def upload_image(
    request: Request, page_id: uuid.UUID, slot: str, seat: Member, posted: Form
) -> Response:
    """The file goes to the API's upload route, which checks its type, size and content."""
    editor(seat)
    st, problems = state_of(request.app), Problems()
    upload = posted.get("file")
    if not isinstance(upload, UploadFile):
        problems.add(forms.FORM_LEVEL, "choose an image file first")
    else:
        raw, size = await page_parts.upload_request(request, upload)
        if size == 0:
            problems.add(forms.FORM_LEVEL, "choose an image file first")
        else:
            await forms.attempt(
                lambda: api_pages.put_image(page_id, slot, seat.principal, raw, st), problems
            )
    return await after(request, seat, page_id, problems, f"image:{slot}")


@router.post("/{page_id}/images/{slot}/delete", response_class=Response)
async def delete_image(
    request: Request, page_id: uuid.UUID, slot: str, seat: Member, posted: Form
) -> Response:
    editor(seat)
    st, problems = state_of(request.app), Problems()
    await forms.attempt(
        lambda: api_pages.delete_image(page_id, slot, seat.principal, request, st), problems
    )
    return await after(request, seat, page_id, problems, f"image:{slot}")


@router.post("/{page_id}/domain/verify", response_class=Response)
async def verify_domain(
    request: Request, page_id: uuid.UUID, seat: Member, posted: Form
) -> Response:
    editor(seat)
    st, problems = state_of(request.app), Problems()
    await forms.attempt(
        lambda: api_pages.verify_page_domain(page_id, seat.principal, request, st), problems
    )
    return await after(request, seat, page_id, problems, "domain")


async def _update(
    request: Request, seat: Seat, page_id: uuid.UUID, body: dict[str, Any], part: str,
    **drafts: Any,
) -> Response:  # fmt: skip
    """PATCH the page with ``body``; the editor again with ``drafts`` when refused."""
    st, problems = state_of(request.app), Problems()
    update = forms.parse(PageUpdate, body, problems)
    if update is not None:
        await forms.attempt(
            lambda: api_pages.update_page(page_id, update, seat.principal, request, st), problems
        )
    if not problems:
        return render.redirect(f"{_base(seat)}/{page_id}#{part}")
    placed = page_parts.beside(problems, *page_parts.SETTINGS, "frame_ancestors", "components")
    return await show_editor(request, seat, page_id, problems={part: placed}, **drafts)


async def after(
    request: Request, seat: Seat, page_id: uuid.UUID, problems: Problems, part: str
) -> Response:
    """Back to the editor's ``part``, or the editor with the refusal shown there."""
    if not problems:
        return render.redirect(f"{_base(seat)}/{page_id}#{part.replace(':', '-')}")
    return await show_editor(request, seat, page_id, problems={part: problems})


async def _list(
    request: Request,
    seat: Seat,
    *,
    problems: Problems | None = None,
    draft: dict[str, Any] | None = None,
    chosen: list[str] | None = None,
) -> Response:
    st = state_of(request.app)
    pages = await api_pages.list_pages(seat.principal, request, st)
    async with st.transaction() as conn:
        every_probe = await probes.list_probes(conn, seat.project_id)
    return render.page(
        request, "pages.html.j2", 422 if problems else 200, seat=seat, section="Status pages",
        pages=pages, probes=every_probe, problems=problems or Problems(), draft=draft or {},
        chosen=chosen or [],
    )  # fmt: skip


async def show_editor(
    request: Request,
    seat: Seat,
    page_id: uuid.UUID,
    *,
    problems: dict[str, Problems] | None = None,
    settings: dict[str, str] | None = None,
    components: list[dict[str, Any]] | None = None,
) -> Response:
    st, principal = state_of(request.app), seat.principal
    page = await _found(api_pages.get_page(page_id, principal, request, st))
    notices = await api_pages.list_announcements(page_id, principal, st)
    shown = {c.probe_id for c in page.components}
    windows = [
        w for w in await api_maintenance.list_windows(principal, st)
        if w.page_id == page.id or w.probe_id in shown or (w.page_id, w.probe_id) == (None, None)
    ]  # fmt: skip
    async with st.transaction() as conn:
        stored = await status_pages.get_page(conn, seat.project_id, page_id)
        preview = await load.page_view(conn, stored, datetime.now(UTC))
        every_probe = await probes.list_probes(conn, seat.project_id)
    return render.page(
        request, "page_editor.html.j2", 422 if problems else 200, seat=seat,
        section="Status pages", page=page, preview=preview, notices=notices, windows=windows,
        probes=every_probe, names={str(p.id): p.name for p in every_probe},
        messages={part: found.by_field for part, found in (problems or {}).items()},
        settings=settings or page_parts.settings_values(page),
        components=page_parts.component_rows(page) if components is None else components,
        slots=api_pages.IMAGE_SLOTS,
    )  # fmt: skip


async def _found(action: Awaitable[T]) -> T:
    """The API's answer, or the console's "not found" page for another project's page."""
    try:
        return await action
    except NotFound as exc:
        raise Refused(404, str(exc)) from exc


def _base(seat: Seat) -> str:
    return f"/console/p/{seat.project_id}/pages"
