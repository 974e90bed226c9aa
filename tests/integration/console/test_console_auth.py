"""Accounts in the console: first run, sign-in, the account lock, CSRF, sessions.

The first-run tests use an instance of their own (``fresh_db``: no account yet); the
others the shared test app, with accounts made through the store.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.security.auth import hash_token
from api.services import accounts
from api.settings import Settings
from store import projects
from store.pool import transaction
from tests.conftest import Run
from tests.integration.console.conftest import PASSWORD, Person, new_email, person

pytestmark = pytest.mark.db


def form_csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


@pytest.fixture
def first_run(fresh_db: str, api_settings: Settings) -> Iterator[TestClient]:
    settings = api_settings.model_copy(update={"database_url": fresh_db})
    with TestClient(create_app(settings), follow_redirects=False) as browser:
        yield browser


def set_up(browser: TestClient, email: str, password: str = PASSWORD, **extra: str) -> Any:
    page = browser.get("/console/setup")
    token = form_csrf(page.text) if page.status_code == 200 else browser.cookies["callprobe_csrf"]
    form = {"csrf": token, "email": email, "password": password, "confirm": password,
            "project": "Acme voice", **extra}  # fmt: skip
    return browser.post("/console/setup", data=form)


def test_a_fresh_instance_asks_for_its_owner_then_signs_them_in(first_run: TestClient) -> None:
    assert first_run.get("/console/").headers["location"].startswith("/console/login")
    assert first_run.get("/console/login").headers["location"] == "/console/setup"
    made = set_up(first_run, "Owner@Example.test")
    assert made.status_code == 303
    home = first_run.get(made.headers["location"])
    overview = first_run.get(home.headers["location"])
    assert overview.status_code == 200
    assert "Acme voice" in overview.text and "owner@example.test (owner)" in overview.text
    cookie = made.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    # the first run happens once: afterwards the form is gone
    assert first_run.get("/console/setup").headers["location"] == "/console/login"
    assert set_up(first_run, "other@example.test").headers["location"] == "/console/login"


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("short", "short", "at least 12 characters"),
        (PASSWORD, PASSWORD + "x", "the two passwords differ"),
        ("aaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaa", "more different characters"),
    ],
)
def test_the_first_run_refuses_weak_passwords(
    first_run: TestClient, password: str, confirm: str, message: str
) -> None:
    refused = set_up(first_run, "owner@example.test", password, confirm=confirm)
    assert refused.status_code == 422 and message in refused.text
    assert 'value="owner@example.test"' in refused.text


def test_a_form_without_its_csrf_token_is_refused(first_run: TestClient, owner: Person) -> None:
    first_run.get("/console/setup")
    form = {"email": "x@example.test", "password": PASSWORD, "confirm": PASSWORD}
    assert first_run.post("/console/setup", data=form).status_code == 403
    assert first_run.post("/console/setup", data={**form, "csrf": "forged"}).status_code == 403
    signed_out = owner.client.post("/console/logout", data={"csrf": "forged"})
    assert signed_out.status_code == 403
    assert owner.client.get(owner.path()).status_code == 200


def sign_in(browser: TestClient, email: str, password: str) -> Any:
    page = browser.get("/console/login")
    data = {"csrf": form_csrf(page.text), "email": email, "password": password,
            "next": "/console/"}  # fmt: skip
    return browser.post("/console/login", data=data)


def test_sign_in_and_out(client: TestClient, owner: Person) -> None:
    browser = TestClient(client.app, follow_redirects=False)
    wrong = sign_in(browser, owner.email, "not the password")
    assert wrong.status_code == 401 and "wrong email address or password" in wrong.text
    unknown = sign_in(browser, new_email("nobody"), PASSWORD)
    assert unknown.status_code == 401 and "wrong email address or password" in unknown.text
    signed = sign_in(browser, owner.email.upper(), PASSWORD)
    assert signed.status_code == 303
    assert browser.get(owner.path()).status_code == 200
    page = browser.get(owner.path())
    assert browser.post("/console/logout", data={"csrf": form_csrf(page.text)}).status_code == 303
    assert browser.get(owner.path()).status_code == 303


def test_ten_wrong_passwords_lock_the_account(client: TestClient, owner: Person) -> None:
    browser = TestClient(client.app, follow_redirects=False)
    for _ in range(10):
        assert sign_in(browser, owner.email, "wrong password!!").status_code == 401
    locked = sign_in(browser, owner.email, PASSWORD)
    assert locked.status_code == 401
    assert "locked for 15 more minutes" in locked.text


def test_an_expired_or_idle_session_signs_out(
    run: Run[Any], client: TestClient, api_settings: Settings, project: uuid.UUID
) -> None:
    idle, aged = (person(run, client, api_settings, "viewer", project) for _ in range(2))
    with psycopg.connect(api_settings.resolved_database_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE sessions SET last_seen_at = now() - interval '61 minutes'"
            " WHERE user_id = (SELECT id FROM users WHERE email = %s)", (idle.email,))  # fmt: skip
        conn.execute(
            "UPDATE sessions SET expires_at = now() - interval '1 second'"
            " WHERE user_id = (SELECT id FROM users WHERE email = %s)", (aged.email,))  # fmt: skip
    for gone in (idle, aged):
        answer = gone.client.get(gone.path("/probes"))
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/console/login?next=/console/p/{project}/probes"


def test_a_member_sees_only_their_projects(
    run: Run[Any], client: TestClient, api_settings: Settings, owner: Person, project: uuid.UUID
) -> None:
    elsewhere = person(run, client, api_settings, "owner", _another_project(run, api_settings))
    assert owner.client.get(elsewhere.path()).status_code == 404
    assert elsewhere.client.get(owner.path()).status_code == 404
    assert elsewhere.client.get(elsewhere.path()).status_code == 200


def _another_project(run: Run[Any], settings: Settings) -> uuid.UUID:
    async def make() -> uuid.UUID:
        async with transaction(settings.resolved_database_url) as conn:
            return (await projects.create_project(conn, "elsewhere")).id

    return run(make())


def test_the_next_target_stays_inside_the_console(client: TestClient, owner: Person) -> None:
    browser = TestClient(client.app, follow_redirects=False)
    page = browser.get("/console/login")
    data = {"csrf": form_csrf(page.text), "email": owner.email, "password": PASSWORD}
    for target in ("https://evil.example/", "//evil.example/x", "/console//evil.example"):
        answer = browser.post("/console/login", data={**data, "next": target})
        assert answer.headers["location"] == "/console/"


def test_sessions_are_stored_as_hashes(api_settings: Settings, owner: Person) -> None:
    cookie = owner.client.cookies.get(accounts.SESSION_COOKIE)
    assert cookie
    with psycopg.connect(api_settings.resolved_database_url) as conn:
        rows = conn.execute("SELECT token_hash FROM sessions").fetchall()
    assert rows and all(cookie.encode() not in bytes(row[0]) for row in rows)
    assert hash_token(cookie) in {bytes(row[0]) for row in rows}


def test_a_password_change_needs_the_current_one_and_ends_other_sessions(
    client: TestClient, owner: Person
) -> None:
    elsewhere = TestClient(client.app, follow_redirects=False)
    assert sign_in(elsewhere, owner.email, PASSWORD).status_code == 303
    new = "a much longer new passphrase"
    wrong = owner.post("/console/password", {"current": "nope", "new": new, "confirm": new})
    assert wrong.status_code == 422 and "the current password is wrong" in wrong.text
    changed = owner.post("/console/password", {"current": PASSWORD, "new": new, "confirm": new})
    assert changed.status_code == 200 and "Your password was changed." in changed.text
    assert owner.client.get(owner.path()).status_code == 200
    assert elsewhere.get(owner.path()).status_code == 303
    fresh = TestClient(client.app, follow_redirects=False)
    assert sign_in(fresh, owner.email, PASSWORD).status_code == 401
    assert sign_in(fresh, owner.email, new).status_code == 303
