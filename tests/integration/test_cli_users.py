"""``callprobe user create`` and ``callprobe user reset-password`` against a real
database: the first account owns a new project, a member joins an existing one, a reset
sets the password, lifts the lock and ends the sessions; passwords never come from argv."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.main import get_command
from typer.testing import CliRunner

from api.cli.main import app
from api.services import accounts
from api.settings import Settings, get_settings
from store.pool import transaction
from tests.conftest import Cluster, Run
from tests.integration.console.conftest import first_run_cluster, fresh_db

__all__ = ["first_run_cluster", "fresh_db"]

pytestmark = pytest.mark.db

PASSWORD = "correct horse battery staple"


def _use(url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("CALLPROBE_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


@pytest.fixture
def main_db(db: Cluster, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    yield from _use(db.url, monkeypatch)


@pytest.fixture
def empty_db(fresh_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    yield from _use(fresh_db, monkeypatch)


def _cli(*args: str, stdin: str = PASSWORD + "\n") -> Any:
    return CliRunner().invoke(app, ["user", *args], input=stdin)


def _signs_in(run: Run[Any], url: str, email: str, password: str) -> bool:
    async def attempt() -> bool:
        settings = Settings(database_url=url)
        async with transaction(url) as conn:
            opened = await accounts.sign_in(conn, settings, email, password, datetime.now(UTC))
        return not isinstance(opened, accounts.SignInRefused)

    signed: bool = run(attempt())
    return signed


def test_first_account_owns_a_new_project(run: Run[Any], empty_db: str) -> None:
    made = _cli("create", "--email", "Admin@Example.test", "--project", "NOC",
                "--password-file", "-")  # fmt: skip
    assert made.exit_code == 0, made.output
    with psycopg.connect(empty_db) as conn:
        row = conn.execute(
            "SELECT u.email, u.is_admin, m.role, p.name FROM users u"
            " JOIN memberships m ON m.user_id = u.id JOIN projects p ON p.id = m.project_id"
        ).fetchall()
        audit = conn.execute("SELECT actor, via, action FROM audit_log").fetchall()
    assert row == [("admin@example.test", True, "owner", "NOC")]
    assert audit == [("admin@example.test", "cli", "create")]
    assert _signs_in(run, empty_db, "admin@example.test", PASSWORD)
    again = _cli("create", "--email", "second@example.test", "--password-file", "-")
    assert again.exit_code == 2 and "accounts exist already" in again.output


def test_member_of_an_existing_project_and_password_rules(main_db: str, tmp_path: Path) -> None:
    with psycopg.connect(main_db, autocommit=True) as conn:
        project = conn.execute(
            "INSERT INTO projects (name) VALUES (%s) RETURNING id", (f"cli-{uuid.uuid4().hex[:8]}",)
        ).fetchone()
    assert project is not None
    email = f"member-{uuid.uuid4().hex[:8]}@example.test"
    secret = tmp_path / "password"
    secret.write_text(PASSWORD + "\n")
    made = _cli("create", "--email", email, "--project-id", str(project[0]), "--role", "editor",
                "--password-file", str(secret))  # fmt: skip
    assert made.exit_code == 0, made.output
    with psycopg.connect(main_db) as conn:
        role = conn.execute(
            "SELECT m.role FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = %s",
            (email,),
        ).fetchone()
    assert role == ("editor",)
    short = _cli("create", "--email", "x" + email, "--project-id", str(project[0]),
                 "--password-file", "-", stdin="short\n")  # fmt: skip
    assert short.exit_code == 2 and "password refused" in short.output
    differ = _cli("create", "--email", "y" + email, "--project-id", str(project[0]),
                  stdin=f"{PASSWORD}\n{PASSWORD}x\n{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    assert differ.exit_code == 0, differ.output
    assert "--password" not in [p.opts[0] for p in _params("create")]


def _params(command: str) -> list[Any]:
    group: Any = get_command(app)
    return list(group.commands["user"].commands[command].params)


def test_reset_password_lifts_the_lock_and_ends_sessions(run: Run[Any], main_db: str) -> None:
    email = f"locked-{uuid.uuid4().hex[:8]}@example.test"
    assert _cli("create", "--email", email, "--project-id", str(_any_project(main_db)),
                "--password-file", "-").exit_code == 0  # fmt: skip
    with psycopg.connect(main_db, autocommit=True) as conn:
        conn.execute(
            "UPDATE users SET failed_logins = 10, locked_until = %s WHERE email = %s",
            (datetime.now(UTC) + timedelta(hours=1), email),
        )
        conn.execute(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at)"
            " SELECT %s, id, 'x', now() + interval '1 hour' FROM users WHERE email = %s",
            (uuid.uuid4().bytes, email),
        )
    assert not _signs_in(run, main_db, email, PASSWORD)
    new = PASSWORD + " 2"
    reset = _cli("reset-password", "--email", email.upper(), "--password-file", "-",
                 stdin=new + "\n")  # fmt: skip
    assert reset.exit_code == 0, reset.output
    with psycopg.connect(main_db) as conn:
        left = conn.execute(
            "SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = %s",
            (email,),
        ).fetchone()
    assert left == (0,)
    assert _signs_in(run, main_db, email, new) and not _signs_in(run, main_db, email, PASSWORD)
    missing = _cli("reset-password", "--email", "nobody@example.test", "--password-file", "-")
    assert missing.exit_code == 2 and "no account" in missing.output


def _any_project(url: str) -> uuid.UUID:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "INSERT INTO projects (name) VALUES (%s) RETURNING id", (f"cli-{uuid.uuid4().hex[:8]}",)
        ).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))
