"""Tenant isolation in the console: a signed-in owner of project A gets the 404 page for
every console page of project B, and every page of A's own URL space that names one of
B's objects; every form posted there is refused (404, or the API's refusal shown on
A's page), and nothing of B changes.

The walk covers every console route, so routes added later are walked too; a route
with a path parameter this walk has no object for fails the test loudly.
"""

from __future__ import annotations

import string
import uuid
from typing import Any

import psycopg
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from api.settings import Settings
from tests.conftest import Run
from tests.integration.api.test_api_isolation import _assert_untouched, populate
from tests.integration.console.conftest import person

pytestmark = pytest.mark.db

EXEMPT = {
    "/console/invite/{token}": "addressed by the invitation's own one-time token",
    "/console/invite/{token}/join": "addressed by the invitation's own one-time token",
    "/console/static/{name}": "the console's stylesheet and scripts, the same for everyone",
}


def _console_routes(client: TestClient) -> list[tuple[str, APIRoute]]:
    contexts = iter_route_contexts(client.app.routes)  # type: ignore[attr-defined]
    return [
        (ctx.path or "", ctx.original_route)
        for ctx in contexts
        if isinstance(ctx.original_route, APIRoute)
        and (ctx.path or "").startswith("/console/p/{project_id}")
    ]


def test_other_projects_console_is_not_found(
    run: Run[Any], client: TestClient, api_settings: Settings
) -> None:
    a, b = populate(client), populate(client)
    owner = person(run, client, api_settings, "owner", uuid.UUID(a.tenant.project_id))
    member_of_b = person(run, client, api_settings, "viewer", uuid.UUID(b.tenant.project_id))
    user_id = _user_id(api_settings, member_of_b.email)
    params = {**b.params, "run_id": str(uuid.uuid4()), "user_id": user_id}
    routes = _console_routes(client)
    assert len(routes) > 30, "the console route walk found too few routes"
    for declared, route in routes:
        template = declared.replace(":uuid}", "}")
        names = set(_names(template)) - {"project_id"}
        unknown = names - set(params)
        assert not unknown, f"{template}: no object for {unknown}: add one"
        for project in (b.tenant.project_id, a.tenant.project_id):
            if project == a.tenant.project_id and not names:
                continue  # A's own page with no object in it: A may see it
            path = template.format(project_id=project, **{n: params[n] for n in names})
            for method in route.methods:
                answer = owner.client.request(method, path, data={"csrf": owner.csrf})
                refused = answer.status_code == 404 or (
                    method == "POST" and 400 <= answer.status_code < 500
                )
                assert refused, (method, path, answer.status_code)
    _assert_untouched(client, b)


def _names(template: str) -> list[str]:
    return [field for _, field, _, _ in string.Formatter().parse(template) if field]


def _user_id(settings: Settings, email: str) -> str:
    with psycopg.connect(settings.resolved_database_url) as conn:
        row = conn.execute("SELECT id FROM users WHERE email = %s", (email,)).fetchone()
    assert row is not None
    return str(row[0])
