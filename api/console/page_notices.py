"""The status page editor's announcements and maintenance windows: made and removed
through the API's route functions; times are typed in the page's time zone."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.console import forms
from api.console.forms import Problems
from api.console.page_parts import moment, text
from api.console.pages import after
from api.console.session import Form, Member, Seat, editor
from api.routes import maintenance as api_maintenance
from api.routes import pages as api_pages
from api.schemas.announcements import AnnouncementCreate
from api.schemas.maintenance import MaintenanceCreate
from api.state import of as state_of
from store import status_pages

router = APIRouter(prefix="/console/p/{project_id}/pages/{page_id}", include_in_schema=False)


@router.post("/announcements", response_class=Response)
async def create_announcement(
    request: Request, page_id: uuid.UUID, seat: Member, posted: Form
) -> Response:
    editor(seat)
    st, problems = state_of(request.app), Problems()
    zone = await _zone(request, seat, page_id)
    draft = {"title": text(posted, "title"), "body": text(posted, "body"),
             "ends_at": moment(text(posted, "ends_at"), zone)}  # fmt: skip
    body = forms.parse(AnnouncementCreate, draft, problems)
    if body is not None:
        await forms.attempt(
            lambda: api_pages.create_announcement(page_id, body, seat.principal, request, st),
            problems,
        )
    return await after(request, seat, page_id, problems, "announcements")


@router.post("/announcements/{announcement_id}/delete", response_class=Response)
async def delete_announcement(
    request: Request, page_id: uuid.UUID, announcement_id: uuid.UUID, seat: Member, posted: Form
) -> Response:
    editor(seat)
    st, problems = state_of(request.app), Problems()
    await forms.attempt(
        lambda: api_pages.delete_announcement(
            page_id, announcement_id, seat.principal, request, st
        ),
        problems,
    )
    return await after(request, seat, page_id, problems, "announcements")


@router.post("/maintenance", response_class=Response)
async def create_window(
    request: Request, page_id: uuid.UUID, seat: Member, posted: Form
) -> Response:
    """A window for this page (every component on it)."""
    editor(seat)
    st, problems = state_of(request.app), Problems()
    zone = await _zone(request, seat, page_id)
    draft = {"title": text(posted, "title"), "page_id": str(page_id),
             "starts_at": moment(text(posted, "starts_at"), zone),
             "ends_at": moment(text(posted, "ends_at"), zone)}  # fmt: skip
    body = forms.parse(MaintenanceCreate, draft, problems)
    if body is not None:
        await forms.attempt(
            lambda: api_maintenance.create_window(body, seat.principal, request, st), problems
        )
    return await after(request, seat, page_id, problems, "maintenance")


@router.post("/maintenance/{window_id}/delete", response_class=Response)
async def delete_window(
    request: Request, page_id: uuid.UUID, window_id: uuid.UUID, seat: Member, posted: Form
) -> Response:
    editor(seat)
    st, problems = state_of(request.app), Problems()
    await forms.attempt(
        lambda: api_maintenance.delete_window(window_id, seat.principal, request, st), problems
    )
    return await after(request, seat, page_id, problems, "maintenance")


async def _zone(request: Request, seat: Seat, page_id: uuid.UUID) -> str:
    """The page's time zone (UTC for a page that is not the project's: the route then
    answers "not found")."""
    async with state_of(request.app).transaction() as conn:
        if not await status_pages.page_exists(conn, seat.project_id, page_id):
            return "UTC"
        return (await status_pages.get_page(conn, seat.project_id, page_id)).time_zone
