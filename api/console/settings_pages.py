"""Settings: API keys (owners: create with a scope, the token shown once; revoke), the
members and their roles, invitations (:mod:`api.console.members`), and a way to the
notification channels (:mod:`api.console.channels`)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.console import forms, render
from api.console.forms import Problems
from api.console.session import Form, Member, Seat, owner
from api.routes import keys as api_keys
from api.schemas.keys import KeyCreate
from api.state import of as state_of
from store import members, users
from store.users import ROLES

router = APIRouter(prefix="/console/p/{project_id}/settings", include_in_schema=False)


@router.get("", response_class=HTMLResponse)
async def settings_page(request: Request, seat: Member) -> Response:
    return await show(request, seat)


@router.post("/keys", response_class=Response)
async def create_key(request: Request, seat: Member, posted: Form) -> Response:
    """Issue a key; the answer is the page with its token, shown this once."""
    owner(seat)
    st, problems = state_of(request.app), Problems()
    data = {"name": str(posted.get("name", "")).strip(), "scope": posted.get("scope", "read")}
    body = forms.parse(KeyCreate, data, problems)
    made = None
    if body is not None:
        made = await forms.attempt(lambda: api_keys.create_key(body, seat.principal, st), problems)
    if made is None:
        return await show(request, seat, 422, key_problems=problems, posted=posted)
    return await show(request, seat, 201, new_key=made)


@router.post("/keys/{key_id}/revoke", response_class=Response)
async def revoke_key(request: Request, key_id: uuid.UUID, seat: Member, posted: Form) -> Response:
    owner(seat)
    st, problems = state_of(request.app), Problems()
    await forms.attempt(lambda: api_keys.revoke_key(key_id, seat.principal, st), problems)
    if problems:
        return await show(request, seat, 409, key_problems=problems)
    return render.redirect(f"/console/p/{seat.project_id}/settings#keys")


async def show(request: Request, seat: Seat, status: int = 200, **context: Any) -> Response:
    """The settings page; ``context`` carries what a form just did or why it failed."""
    st = state_of(request.app)
    listed = await api_keys.list_keys(seat.principal, st) if seat.may("owner") else []
    async with st.transaction() as conn:
        people = await users.members(conn, seat.project_id)
        pending = await members.pending_invitations(conn, seat.project_id, datetime.now(UTC))
    problems = {
        name: context.pop(name, Problems())
        for name in ("key_problems", "member_problems", "invite_problems")
    }
    return render.page(
        request, "settings.html.j2", status, seat=seat, section="Settings",
        keys=listed, members=people, invitations=pending, roles=ROLES,
        public_url=st.settings.public_url, posted=context.pop("posted", {}),
        **problems, **context,
    )  # fmt: skip
