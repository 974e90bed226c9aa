"""Members and invitations: owners change roles and remove members (the last owner stays),
and invite an email address with a role through a one-time link; the link's page makes
an account for that address, or lets the person signed in with it join."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.console import forms, render
from api.console.forms import Problems
from api.console.session import (
    FORM_COOKIE,
    AnonymousForm,
    Form,
    Member,
    Seat,
    Signed,
    SignInNeeded,
    Visitor,
    form_token,
    owner,
    set_cookie,
    visitor,
)
from api.console.settings_pages import show
from api.services import accounts, invitations
from api.services import members as membership
from api.state import of as state_of
from store import users
from store.errors import Conflict
from store.pool import AsyncConn

router = APIRouter(prefix="/console", include_in_schema=False)


@router.post("/p/{project_id}/settings/members/{user_id}/role", response_class=Response)
async def change_role(request: Request, user_id: uuid.UUID, seat: Member, posted: Form) -> Response:
    owner(seat)
    role = str(posted.get("role", ""))
    return await _change(
        request, seat, lambda conn: membership.change_role(conn, seat.principal, user_id, role)
    )


@router.post("/p/{project_id}/settings/members/{user_id}/remove", response_class=Response)
async def remove_member(
    request: Request, user_id: uuid.UUID, seat: Member, posted: Form
) -> Response:
    owner(seat)
    return await _change(
        request, seat, lambda conn: membership.remove(conn, seat.principal, user_id)
    )


@router.post("/p/{project_id}/settings/invitations", response_class=Response)
async def invite(request: Request, seat: Member, posted: Form) -> Response:
    """Make an invitation; the answer is the page with its link, shown this once."""
    owner(seat)
    st, problems = state_of(request.app), Problems()
    email, role = str(posted.get("email", "")), str(posted.get("role", "viewer"))
    inviter = users.User(
        id=seat.visitor.user_id, email=seat.visitor.email, is_admin=seat.visitor.is_admin,
        created_at=datetime.now(UTC),
    )  # fmt: skip

    async def make() -> invitations.Issued:
        async with st.transaction() as conn:
            return await invitations.invite(
                conn, seat.principal, inviter, email, role, now=datetime.now(UTC)
            )

    issued = await forms.attempt(make, problems)
    if issued is None:
        return await show(request, seat, 422, invite_problems=problems, posted=posted)
    link = f"{st.settings.public_url}/console/invite/{issued.token}"
    return await show(request, seat, 201, invited=issued, invite_link=link)


@router.get("/invite/{token}", response_class=HTMLResponse)
async def invitation_page(request: Request, token: str) -> Response:
    return await _invitation(request, token)


@router.post("/invite/{token}", response_class=Response)
async def accept_new(request: Request, token: str, posted: AnonymousForm) -> Response:
    """Make the invited account (its email fixed by the invitation) and sign it in."""
    st = state_of(request.app)
    password, confirm = str(posted.get("password", "")), str(posted.get("confirm", ""))
    problem = "the two passwords differ" if password != confirm else None
    problem = problem or accounts.password_problem(password)
    if problem:
        return await _invitation(request, token, 422, error=problem)
    hashed = await accounts.hash_password(password)
    now = datetime.now(UTC)
    problems = Problems()

    async def make() -> tuple[accounts.NewSession, users.Invitation]:
        async with st.transaction() as conn:
            found = await invitations.open_invitation(conn, token, now)
            if found is None:
                raise Conflict(invitations.SPENT)
            if await users.credentials(conn, found.email) is not None:
                raise Conflict(f"an account for {found.email} exists: sign in, then open the link")
            user = await users.create_user(conn, found.email, hashed)
            joined = await invitations.accept(conn, token, user, now)
            return await accounts.start_session(conn, st.settings, user.id, now), joined

    started = await forms.attempt(make, problems)
    if started is None:
        return await _invitation(request, token, 409, error=problems.get(""))
    session, joined = started
    response = render.redirect(f"/console/p/{joined.project_id}")
    set_cookie(response, request, accounts.SESSION_COOKIE, session.cookie)
    return response


@router.post("/invite/{token}/join", response_class=Response)
async def accept_signed_in(request: Request, token: str, who: Signed, posted: Form) -> Response:
    """Join as the account signed in (it must be the invited address)."""
    st, problems = state_of(request.app), Problems()

    async def join() -> users.Invitation:
        async with st.transaction() as conn:
            user = await users.user_by_id(conn, who.user_id)
            assert user is not None
            return await invitations.accept(conn, token, user, datetime.now(UTC))

    joined = await forms.attempt(join, problems)
    if joined is None:
        return await _invitation(request, token, 409, error=problems.get(""))
    return render.redirect(f"/console/p/{joined.project_id}")


async def _change(
    request: Request, seat: Seat, action: Callable[[AsyncConn], Awaitable[None]]
) -> Response:
    """Run a change of the members in one transaction; the page with why, if refused."""
    st, problems = state_of(request.app), Problems()

    async def run() -> bool:
        async with st.transaction() as conn:
            await action(conn)
        return True

    if await forms.attempt(run, problems) is None:
        return await show(request, seat, 409, member_problems=problems)
    return render.redirect(f"/console/p/{seat.project_id}/settings#members")


async def _invitation(
    request: Request, token: str, status: int = 200, error: str | None = None
) -> Response:
    """The link's page: join, make the account, or sign in first; or why it is spent."""
    st = state_of(request.app)
    async with st.transaction() as conn:
        found = await invitations.open_invitation(conn, token, datetime.now(UTC))
        exists = found is not None and await users.credentials(conn, found.email) is not None
    who = await _signed_in(request)
    csrf = who.csrf if who else form_token(request)
    context = {"invitation": found, "who": who, "exists": exists, "token": token, "error": error}
    response = render.page(
        request, "invite.html.j2", 410 if found is None else status, csrf=csrf, **context
    )
    if who is None:
        set_cookie(response, request, FORM_COOKIE, csrf)
    return response


async def _signed_in(request: Request) -> Visitor | None:
    try:
        return await visitor(request)
    except SignInNeeded:
        return None
