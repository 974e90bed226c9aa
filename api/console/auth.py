"""Signing in and out, the first run, and changing one's password.

The first run (no account yet) shows a form that makes the owner account, the
instance's administrator, and a first project unless projects exist already (made
through the API), which the owner then owns. ``callprobe user create`` does the same
from a shell.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from api.console import render
from api.console.session import (
    FORM_COOKIE,
    AnonymousForm,
    Form,
    Signed,
    form_token,
    set_cookie,
)
from api.middleware.client_address import client_key
from api.services import accounts, enrolment
from api.services.accounts import SignInRefused
from api.state import of as state_of
from store import sessions, users
from store.errors import Conflict

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/", response_class=Response)
async def home(who: Signed) -> Response:
    """The first project's overview (or the page that says there is none)."""
    if who.projects:
        return render.redirect(f"/console/p/{who.projects[0].project_id}")
    return render.redirect("/console/projects")


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str = "/console/") -> Response:
    async with state_of(request.app).transaction() as conn:
        if await users.count_users(conn) == 0:
            return render.redirect("/console/setup")
    return _anonymous(request, "login.html.j2", next=_local(next))


@router.post("/login", response_class=Response)
async def login(request: Request, posted: AnonymousForm) -> Response:
    st = state_of(request.app)
    email, password = str(posted.get("email", "")), str(posted.get("password", ""))
    target = _local(str(posted.get("next", "/console/")))
    now = datetime.now(UTC)
    try:
        await st.login_limiter.check(client_key(request, st.settings.trusted_proxies))
    except HTTPException:
        busy = "too many sign-in attempts from your address: wait a minute"
        return _anonymous(request, "login.html.j2", 429, next=target, email=email, error=busy)
    async with st.transaction() as conn:
        user = await accounts.sign_in(conn, st.settings, email, password, now)
        if not isinstance(user, SignInRefused):
            started = await accounts.start_session(conn, st.settings, user.id, now)
    if isinstance(user, SignInRefused):
        return _anonymous(request, "login.html.j2", 401, next=target, email=email,
                          error=str(user))  # fmt: skip
    response = render.redirect(target)
    set_cookie(response, request, accounts.SESSION_COOKIE, started.cookie)
    return response


@router.post("/logout", response_class=Response)
async def logout(request: Request, who: Signed, posted: Form) -> Response:
    async with state_of(request.app).transaction() as conn:
        await sessions.end_session(conn, who.session_hash)
    response = render.redirect("/console/login")
    response.delete_cookie(accounts.SESSION_COOKIE, path="/console")
    return response


@router.get("/setup", response_class=HTMLResponse)
async def setup_page(request: Request) -> Response:
    async with state_of(request.app).transaction() as conn:
        if await users.count_users(conn) > 0:
            return render.redirect("/console/login")
    return _anonymous(request, "setup.html.j2")


@router.post("/setup", response_class=Response)
async def setup(request: Request, posted: AnonymousForm) -> Response:
    """Make the owner account (only while there is none) and sign it in."""
    st = state_of(request.app)
    email = str(posted.get("email", "")).strip()
    password = str(posted.get("password", ""))
    project = str(posted.get("project", "")).strip() or "My project"
    problem = _account_problem(email, password, str(posted.get("confirm", "")))
    if problem:
        return _anonymous(request, "setup.html.j2", 422, email=email, project=project,
                          error=problem)  # fmt: skip
    hashed = await accounts.hash_password(password)
    try:
        async with st.transaction() as conn:
            user = await enrolment.first_owner(conn, email, hashed, project, via="console")
            started = await accounts.start_session(conn, st.settings, user.id, datetime.now(UTC))
    except Conflict:  # someone else finished the first run meanwhile
        return render.redirect("/console/login")
    response = render.redirect("/console/")
    set_cookie(response, request, accounts.SESSION_COOKIE, started.cookie)
    return response


@router.get("/password", response_class=HTMLResponse)
async def password_page(request: Request, who: Signed) -> Response:
    return render.page(request, "password.html.j2", who=who)


@router.post("/password", response_class=Response)
async def change_password(request: Request, who: Signed, posted: Form) -> Response:
    """A new password, after the current one; other sessions of the account end."""
    st = state_of(request.app)
    new = str(posted.get("new", ""))
    problem = _account_problem(who.email, new, str(posted.get("confirm", "")))
    async with st.transaction() as conn:
        checked = await accounts.sign_in(
            conn, st.settings, who.email, str(posted.get("current", "")), datetime.now(UTC)
        )
    if isinstance(checked, SignInRefused):
        problem = str(checked) if "locked" in str(checked) else "the current password is wrong"
    if problem:
        return render.page(request, "password.html.j2", 422, who=who, error=problem)
    hashed = await accounts.hash_password(new)
    async with st.transaction() as conn:
        await users.set_password(conn, who.email, hashed)
        await sessions.end_other_sessions(conn, who.user_id, who.session_hash)
    return render.page(request, "password.html.j2", who=who, done=True)


def _anonymous(request: Request, template: str, status: int = 200, **context: object) -> Response:
    """A form page shown before sign-in, with its CSRF token bound to a cookie."""
    token = form_token(request)
    response = render.page(request, template, status, csrf=token, **context)
    set_cookie(response, request, FORM_COOKIE, token)
    return response


def _account_problem(email: str, password: str, confirm: str) -> str | None:
    if "@" not in email or len(email) > 254 or any(c.isspace() for c in email):
        return "enter a valid email address"
    if password != confirm:
        return "the two passwords differ"
    return accounts.password_problem(password)


def _local(target: str) -> str:
    """Only a path inside the console: never an address elsewhere (open redirect)."""
    if target.startswith("/console/") and not target.startswith("/console//"):
        return target
    return "/console/"
