"""Fixtures for console tests: the app on the test cluster, and browsers' worth of
sessions (a signed-in owner, editor and viewer of a fresh project), made through the
store and the accounts service rather than by clicking, except where a test is about
signing in.

A fresh database (``fresh_db``) is for tests of the first run, which needs an instance
without any account.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.services import accounts
from api.settings import Settings
from store import cluster, projects, users
from store.pool import transaction
from tests.conftest import Run, start_migrated
from tests.integration.api.conftest import api_data_dir, api_settings, client

__all__ = ["api_data_dir", "api_settings", "client"]

PASSWORD = "correct horse battery staple"
FIRST_RUN_PORT = 25435


@dataclass(frozen=True)
class Person:
    """A signed-in console user in ``project_id`` with ``role``: ``client`` carries the
    session cookie; ``csrf`` is the token its forms post."""

    client: TestClient
    email: str
    role: str
    project_id: str
    csrf: str

    def path(self, rest: str = "") -> str:
        return f"/console/p/{self.project_id}{rest}"

    def post(self, path: str, data: dict[str, Any], **kwargs: Any) -> Any:
        """A form post with the session's CSRF token."""
        return self.client.post(path, data={"csrf": self.csrf, **data}, **kwargs)


def new_email(role: str) -> str:
    return f"{role}-{uuid.uuid4().hex[:10]}@example.test"


def person(
    run: Run[Any], app_client: TestClient, settings: Settings, role: str, project_id: uuid.UUID
) -> Person:
    """A new account with ``role`` in the project, signed in on a client of its own."""

    async def make() -> tuple[str, str, str]:
        email = new_email(role)
        hashed = await accounts.hash_password(PASSWORD)
        async with transaction(settings.resolved_database_url) as conn:
            user = await users.create_user(conn, email, hashed)
            await users.join(conn, user.id, project_id, role)
            started = await accounts.start_session(conn, settings, user.id, datetime.now(UTC))
            row = await (
                await conn.execute("SELECT csrf_token FROM sessions WHERE user_id = %s", (user.id,))
            ).fetchone()
        assert row is not None
        return email, started.cookie, str(row[0])

    email, cookie, csrf = run(make())
    browser = TestClient(app_client.app, follow_redirects=False)
    browser.cookies.set(accounts.SESSION_COOKIE, cookie, path="/console")
    return Person(client=browser, email=email, role=role, project_id=str(project_id), csrf=csrf)


@pytest.fixture
def project(run: Run[Any], api_settings: Settings, client: TestClient) -> uuid.UUID:
    """A fresh project (the app is started so the schema is migrated)."""

    async def make() -> uuid.UUID:
        async with transaction(api_settings.resolved_database_url) as conn:
            return (await projects.create_project(conn, f"console-{uuid.uuid4().hex[:8]}")).id

    return run(make())


@pytest.fixture
def owner(run: Run[Any], client: TestClient, api_settings: Settings, project: uuid.UUID) -> Person:
    return person(run, client, api_settings, "owner", project)


@pytest.fixture
def editor(run: Run[Any], client: TestClient, api_settings: Settings, project: uuid.UUID) -> Person:
    return person(run, client, api_settings, "editor", project)


@pytest.fixture
def viewer(run: Run[Any], client: TestClient, api_settings: Settings, project: uuid.UUID) -> Person:
    return person(run, client, api_settings, "viewer", project)


@pytest.fixture(scope="session")
def first_run_cluster() -> Iterator[str]:
    """A cluster of its own, for tests of an instance without any account."""
    root = cluster.default_root("pg-first-run")
    url = start_migrated(root, FIRST_RUN_PORT)
    yield url
    cluster.stop(root)


@pytest.fixture
def fresh_db(first_run_cluster: str) -> str:
    """The URL of a database without any account (or project)."""
    with psycopg.connect(first_run_cluster, autocommit=True) as conn:
        conn.execute("DELETE FROM users")
        conn.execute("DELETE FROM projects")
    return first_run_cluster
