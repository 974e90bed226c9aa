"""Who is using the console: the session behind the cookie, their seat in a project, and
the CSRF check every state-changing form passes.

A visitor without a valid session is sent to sign in. Forms carry the session's CSRF
token (sign-in and first-run forms, made before there is a session, a token bound to a
``callprobe_csrf`` cookie instead); a form without the right one is refused with 403.
The cookies are HttpOnly and SameSite=Strict, Secure when the console is served over
HTTPS.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request, Response
from starlette.datastructures import FormData

from api.security.auth import Principal, hash_token
from api.services import accounts
from api.state import AppState
from api.state import of as state_of
from store import users
from store.users import ROLES

FORM_COOKIE = "callprobe_csrf"


class SignInNeeded(Exception):
    """No valid session: the console answers with a redirect to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class Refused(Exception):
    """The console refuses the request (403 forged form or role, 404 not a member)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, kw_only=True, slots=True)
class Visitor:
    """A signed-in user."""

    user_id: uuid.UUID
    email: str
    is_admin: bool
    csrf: str
    session_hash: bytes
    projects: list[users.Membership]


@dataclass(frozen=True, kw_only=True, slots=True)
class Seat:
    """A visitor in one project, with their role there."""

    visitor: Visitor
    project_id: uuid.UUID
    project_name: str
    role: str

    def may(self, role: str) -> bool:
        """Whether the seat's role includes ``role`` (owner > editor > viewer)."""
        return ROLES.index(self.role) >= ROLES.index(role)

    @property
    def principal(self) -> Principal:
        """The seat as the API's route functions see a caller."""
        scope = "write" if self.may("editor") else "read"
        return Principal(
            project_id=self.project_id,
            scope=scope,
            actor=self.visitor.email,
            via="console",
        )


def secure(request: Request) -> bool:
    """Whether cookies get the Secure flag: the console is reached over HTTPS."""
    public = state_of(request.app).settings.public_url
    return request.url.scheme == "https" or public.startswith("https://")


def set_cookie(response: Response, request: Request, name: str, value: str) -> None:
    response.set_cookie(
        name, value, httponly=True, samesite="strict", secure=secure(request), path="/console"
    )


async def visitor(request: Request) -> Visitor:
    """The signed-in user behind the session cookie, or a redirect to sign in."""
    cookie = request.cookies.get(accounts.SESSION_COOKIE)
    st = state_of(request.app)
    if cookie:
        async with st.transaction() as conn:
            found = await accounts.session_of(conn, st.settings, cookie, datetime.now(UTC))
            if found is not None:
                seats = await users.memberships_of(conn, found.user_id)
                return Visitor(
                    user_id=found.user_id,
                    email=found.email,
                    is_admin=found.is_admin,
                    csrf=found.csrf_token,
                    session_hash=hash_token(cookie),
                    projects=seats,
                )
    raise SignInNeeded(request.url.path)


Signed = Annotated[Visitor, Depends(visitor)]


async def seat(project_id: uuid.UUID, who: Signed) -> Seat:
    """The visitor's seat in the project in the path (404 when not a member)."""
    for membership in who.projects:
        if membership.project_id == project_id:
            return Seat(
                visitor=who,
                project_id=project_id,
                project_name=membership.project_name,
                role=membership.role,
            )
    raise Refused(404, "no such project, or you are not a member of it")


Member = Annotated[Seat, Depends(seat)]


async def form(request: Request, who: Signed) -> FormData:
    """The posted form, once its CSRF token is the session's."""
    posted = await request.form()
    if not _same(posted.get("csrf"), who.csrf):
        raise Refused(403, "this form has expired or did not come from this console: reload it")
    return posted


async def anonymous_form(request: Request) -> FormData:
    """A form posted before there is a session (sign-in, first run): its token must match
    the ``callprobe_csrf`` cookie the form's page set."""
    posted = await request.form()
    if not _same(posted.get("csrf"), request.cookies.get(FORM_COOKIE)):
        raise Refused(403, "this form has expired or did not come from this console: reload it")
    return posted


Form = Annotated[FormData, Depends(form)]
AnonymousForm = Annotated[FormData, Depends(anonymous_form)]


def form_token(request: Request) -> str:
    """The token for a form shown before sign-in: the cookie's, or a new one."""
    return request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(32)


def editor(seat: Seat) -> Seat:
    """The seat, when it may change things (403 for a viewer)."""
    if not seat.may("editor"):
        raise Refused(403, "viewers cannot change anything: ask an owner for the editor role")
    return seat


def owner(seat: Seat) -> Seat:
    if not seat.may("owner"):
        raise Refused(403, "only an owner of the project can do this")
    return seat


def sign_in_url(next_path: str) -> str:
    return f"/console/login?next={quote(next_path, safe='/')}"


def state(request: Request) -> AppState:
    return state_of(request.app)


def _same(given: object, expected: str | None) -> bool:
    return (
        isinstance(given, str)
        and expected is not None
        and hmac.compare_digest(given.encode(), expected.encode())
    )
