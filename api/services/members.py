"""Members of a project: change a role, remove someone. A project always keeps an owner:
the last one can be neither demoted nor removed (the owners' rows are locked first, so
two owners demoting each other at once cannot leave none)."""

from __future__ import annotations

import uuid

from api.security.auth import Principal
from api.services import audit
from store import members, users
from store.errors import Conflict, NotFound
from store.pool import AsyncConn
from store.users import ROLES

LAST_OWNER = "a project keeps at least one owner: make someone else an owner first"


async def change_role(conn: AsyncConn, principal: Principal, user_id: uuid.UUID, role: str) -> None:
    """Give a member another role (the last owner keeps theirs)."""
    if role not in ROLES:
        raise Conflict(f"the role must be one of {', '.join(ROLES)}")
    current, email = await _member(conn, principal, user_id, stays_owner=role == "owner")
    if current == role:
        return
    await users.join(conn, user_id, principal.project_id, role)
    await audit.record(
        conn, principal, "change_role", "member", user_id,
        before={"email": email, "role": current}, after={"email": email, "role": role},
    )  # fmt: skip


async def remove(conn: AsyncConn, principal: Principal, user_id: uuid.UUID) -> None:
    """Take a member out of the project (not the last owner)."""
    current, email = await _member(conn, principal, user_id, stays_owner=False)
    await users.leave(conn, user_id, principal.project_id)
    await audit.record(
        conn, principal, "remove", "member", user_id, before={"email": email, "role": current}
    )


async def _member(
    conn: AsyncConn, principal: Principal, user_id: uuid.UUID, *, stays_owner: bool
) -> tuple[str, str]:
    """The member's role and email, once the owners are locked; refused for the last
    owner unless they stay an owner."""
    owners = await members.lock_owners(conn, principal.project_id)
    role = await users.role(conn, user_id, principal.project_id)
    user = await users.user_by_id(conn, user_id)
    if role is None or user is None:
        raise NotFound("no such member of this project")
    if owners == [user_id] and not stays_owner:
        raise Conflict(LAST_OWNER)
    return role, user.email
