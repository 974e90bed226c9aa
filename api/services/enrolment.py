"""Accounts made outside a browser session: the instance's first account (its
administrator, owner of every project, with a first project when there is none), a new
member of an existing project, and a password reset that lifts a lock and ends every
session of the account. ``callprobe user`` uses these."""

from __future__ import annotations

import uuid

from api.security.auth import Principal
from api.services import audit
from store import audit as audit_log
from store import members, projects, users
from store.errors import Conflict
from store.pool import AsyncConn


async def first_owner(
    conn: AsyncConn, email: str, password_hash: str, project_name: str, *, via: str
) -> users.User:
    """The first account, owner of every project (a new one named ``project_name`` when
    there is none); :class:`Conflict` once any account exists."""
    await members.lock_first_run(conn)
    if await users.count_users(conn) > 0:
        raise Conflict("accounts exist already: add one to a project with --project-id")
    user = await users.create_user(conn, email, password_hash)
    if await projects.count_projects(conn) == 0:
        made = await projects.create_project(conn, project_name)
        by = Principal(project_id=made.id, scope="write", actor=user.email, via=via)
        await audit.record(conn, by, "create", "project", made.id, after={"name": made.name})
    await users.own_every_project(conn, user.id)
    return user


async def new_member(
    conn: AsyncConn, email: str, password_hash: str, project_id: uuid.UUID, role: str,
    *, via: str,
) -> users.User:  # fmt: skip
    """A new account with ``role`` in an existing project."""
    project = await projects.get_project(conn, project_id)
    if await users.credentials(conn, email) is not None:
        raise Conflict(f"an account for {email} exists already")
    user = await users.create_user(conn, email, password_hash)
    await users.join(conn, user.id, project.id, role)
    by = Principal(project_id=project.id, scope="write", actor=f"callprobe user ({via})", via=via)
    shown = {"email": user.email, "role": role}
    await audit.record(conn, by, "add_member", "member", user.id, after=shown)
    return user


async def reset_password(conn: AsyncConn, email: str, password_hash: str, *, via: str) -> bool:
    """Set a new password, lift any lock and end every session; false when no such account."""
    found = await users.credentials(conn, email)
    if found is None:
        return False
    await users.set_password(conn, email, password_hash)
    await members.end_all_sessions(conn, found.id)
    await audit_log.record(
        conn, None, actor=f"callprobe user ({via})", via=via, action="reset_password",
        target_type="user", target_id=str(found.id), after={"email": found.email},
    )  # fmt: skip
    return True
