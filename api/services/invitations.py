"""Invitations: an owner invites an email address with a role; the one-time link
(``/console/invite/<token>``, valid for :data:`VALID_FOR`) makes whoever opens it a
member, with a new account for that address or the one they are signed in with.

Only the token's SHA-256 is stored; spending it is one conditional update, so a link
works once even when opened twice at the same moment.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from api.security.auth import Principal, hash_token
from api.services import audit
from store import users
from store.errors import Conflict
from store.pool import AsyncConn
from store.users import ROLES, Invitation

VALID_FOR = timedelta(days=7)
SPENT = "this invitation link has been used already, or has expired: ask for a new one"


@dataclass(frozen=True, kw_only=True, slots=True)
class Issued:
    """A new invitation: the token goes into the link shown once."""

    token: str
    email: str
    role: str
    expires_at: datetime


def email_problem(email: str) -> str | None:
    """Why ``email`` is not an address an account can have (None when it can)."""
    if "@" not in email or not 3 <= len(email) <= 254 or any(c.isspace() for c in email):
        return "enter a valid email address"
    return None


async def invite(
    conn: AsyncConn, principal: Principal, inviter: users.User, email: str, role: str, *,
    now: datetime,
) -> Issued:  # fmt: skip
    """Store an invitation to the principal's project."""
    email = email.strip().lower()
    problem = email_problem(email) or (None if role in ROLES else "choose a role")
    if problem:
        raise Conflict(problem)
    token = secrets.token_urlsafe(32)
    issued = Issued(token=token, email=email, role=role, expires_at=now + VALID_FOR)
    await users.invite(
        conn, token_hash=hash_token(token), project_id=principal.project_id, role=role,
        email=email, invited_by=inviter.id, expires_at=issued.expires_at,
    )  # fmt: skip
    shown = {"email": email, "role": role, "expires_at": issued.expires_at.isoformat()}
    await audit.record(conn, principal, "invite", "invitation", None, after=shown)
    return issued


async def open_invitation(conn: AsyncConn, token: str, now: datetime) -> Invitation | None:
    """The invitation behind a link, while it can still be used."""
    found = await users.invitation(conn, hash_token(token))
    if found is None or found.used_at is not None or found.expires_at <= now:
        return None
    return found


async def accept(conn: AsyncConn, token: str, user: users.User, now: datetime) -> Invitation:
    """Spend the invitation for ``user`` (whose email must be the invited one) and make
    them a member; an existing member keeps the role they have."""
    found = await open_invitation(conn, token, now)
    if found is not None and found.email != user.email:
        raise Conflict(f"this invitation is for {found.email}, not {user.email}")
    if found is None or not await users.use_invitation(conn, hash_token(token)):
        raise Conflict(SPENT)
    if await users.role(conn, user.id, found.project_id) is None:
        await users.join(conn, user.id, found.project_id, found.role)
    joined = Principal(project_id=found.project_id, scope="read", actor=user.email, via="console")
    await audit.record(
        conn, joined, "join", "member", user.id, after={"email": user.email, "role": found.role}
    )
    return found
