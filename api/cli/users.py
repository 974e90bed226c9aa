"""``callprobe user create`` and ``callprobe user reset-password``: console accounts from
a shell (the first owner of a fresh install, a member of a project, a forgotten
password). A password comes from a prompt (typed twice) or ``--password-file`` (``-``
for standard input), never from the command line, where ``ps`` would show it."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from api.cli.terminal import err_console, fail
from api.services import accounts, enrolment
from api.services.invitations import email_problem
from api.settings import get_settings
from store import cluster
from store.errors import StoreError
from store.migrate import migrate_database
from store.pool import transaction
from store.users import ROLES

T = TypeVar("T")

user_app = typer.Typer(no_args_is_help=True, help="Console accounts.")

PasswordFile = Annotated[
    Path | None,
    typer.Option(help="Read the password from this file ('-': standard input), not a prompt"),
]


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="The account's email address")],
    project: Annotated[
        str, typer.Option(help="First account: the project to make when there is none")
    ] = "My project",
    project_id: Annotated[
        uuid.UUID | None, typer.Option(help="Make a member of this existing project instead")
    ] = None,
    role: Annotated[
        str, typer.Option(help="The member's role: viewer, editor or owner")
    ] = "viewer",
    password_file: PasswordFile = None,
) -> None:
    """Make the first (administrator) account, or with --project-id a member of a project."""
    email = email.strip().lower()
    if problem := email_problem(email):
        fail(problem)
    if role not in ROLES:
        fail(f"--role must be one of {', '.join(ROLES)}")
    hashed = asyncio.run(accounts.hash_password(_password(password_file)))
    url = _database()
    if project_id is None:
        _run(_first_owner(url, email, hashed, project))
        err_console.print(f"{email} created: the administrator, owner of every project")
    else:
        _run(_member(url, email, hashed, project_id, role))
        err_console.print(f"{email} created: {role} of project {project_id}")


@user_app.command("reset-password")
def user_reset_password(
    email: Annotated[str, typer.Option(help="The account's email address")],
    password_file: PasswordFile = None,
) -> None:
    """Set a new password; the account's lock is lifted and its sessions end."""
    hashed = asyncio.run(accounts.hash_password(_password(password_file)))
    if not _run(_reset(_database(), email.strip().lower(), hashed)):
        fail(f"no account for {email}")
    err_console.print(f"password of {email} changed; its sessions have ended")


def _run(work: Coroutine[Any, Any, T]) -> T:
    """Run the database work; what the store refuses (an existing account, an unknown
    project) is printed as the reason."""
    try:
        return asyncio.run(work)
    except StoreError as exc:
        fail(str(exc))


def _password(path: Path | None) -> str:
    if path is None:
        password = str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))
    elif str(path) == "-":
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        try:
            password = path.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            fail(f"cannot read the password file: {exc}")
    if problem := accounts.password_problem(password):
        fail(f"password refused: {problem}")
    return password


def _database() -> str:
    settings = get_settings()
    url = settings.database_url or cluster.start(settings.pg_root, settings.db_port)
    migrate_database(url)
    return url


async def _first_owner(url: str, email: str, hashed: str, project: str) -> None:
    async with transaction(url) as conn:
        await enrolment.first_owner(conn, email, hashed, project, via="cli")


async def _member(url: str, email: str, hashed: str, project_id: uuid.UUID, role: str) -> None:
    async with transaction(url) as conn:
        await enrolment.new_member(conn, email, hashed, project_id, role, via="cli")


async def _reset(url: str, email: str, hashed: str) -> bool:
    async with transaction(url) as conn:
        return await enrolment.reset_password(conn, email, hashed, via="cli")
