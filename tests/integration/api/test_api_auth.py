"""Authentication: hashed keys and tokens, revocation, scopes, the admin token, agents."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import Depends
from fastapi.testclient import TestClient

from api.app import create_app
from api.security.auth import AgentPrincipal, require_agent
from api.settings import Settings
from store import pool
from tests.conftest import Cluster
from tests.integration.api.conftest import ADMIN_TOKEN, Tenant, assert_error, create, unique

pytestmark = pytest.mark.db


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_tokens_are_stored_as_hashes_only(client: TestClient, tenant: Tenant, db: Cluster) -> None:
    key = create(client, tenant, "/v1/keys", {"name": "k", "scope": "write"})
    location = create(client, tenant, "/v1/locations", {"name": unique("loc")})
    agent = create(client, tenant, "/v1/agents", {"name": "a", "location": location["name"]})
    with pool.connect(db.url) as conn:
        rows = conn.execute(
            "SELECT k::text FROM api_keys k WHERE project_id = %(p)s"
            " UNION ALL SELECT a::text FROM agents a WHERE project_id = %(p)s",
            {"p": tenant.project_id},
        ).fetchall()
    dump = "\n".join(row[0] for row in rows)
    for token in (tenant.token, key["token"], agent["token"]):
        assert token not in dump and token[10:] not in dump


@pytest.mark.parametrize(
    "headers",
    [{}, _bearer("cp_not-a-key"), _bearer("cpa_agent-token"), {"Authorization": "Basic eDp5"}],
)
def test_missing_or_invalid_key_is_401(client: TestClient, headers: dict[str, str]) -> None:
    assert_error(client.get("/v1/probes", headers=headers), 401, "unauthorized")


def test_revoked_key_is_401(client: TestClient, tenant: Tenant) -> None:
    key = create(client, tenant, "/v1/keys", {"name": "temp", "scope": "read"})
    assert client.get("/v1/probes", headers=_bearer(key["token"])).status_code == 200
    client.delete(f"/v1/keys/{key['id']}", headers=tenant.headers)
    assert_error(client.get("/v1/probes", headers=_bearer(key["token"])), 401, "unauthorized")


def test_read_key_cannot_write(client: TestClient, tenant: Tenant) -> None:
    key = create(client, tenant, "/v1/keys", {"name": "ro", "scope": "read"})
    reader = _bearer(key["token"])
    assert client.get("/v1/locations", headers=reader).status_code == 200
    response = client.post("/v1/locations", json={"name": unique("loc")}, headers=reader)
    assert_error(response, 403, "forbidden")


def test_key_cannot_revoke_itself(client: TestClient, tenant: Tenant) -> None:
    own = client.get("/v1/keys", headers=tenant.headers).json()[0]
    assert_error(client.delete(f"/v1/keys/{own['id']}", headers=tenant.headers), 409, "conflict")


def test_admin_token_guards_project_creation(client: TestClient, tenant: Tenant) -> None:
    body = {"name": unique("p")}
    assert_error(client.post("/v1/projects", json=body), 401, "unauthorized")
    wrong = client.post("/v1/projects", json=body, headers=_bearer(ADMIN_TOKEN + "x"))
    assert_error(wrong, 401, "unauthorized")
    assert_error(
        client.post("/v1/projects", json=body, headers=tenant.headers), 401, "unauthorized"
    )


def test_admin_routes_disabled_without_token(api_settings: Settings) -> None:
    settings = api_settings.model_copy(update={"admin_token": None})
    with TestClient(create_app(settings)) as other:
        response = other.post("/v1/projects", json={"name": "x"}, headers=_bearer("anything"))
        assert_error(response, 403, "forbidden")


def test_agent_token_authenticates_and_touches_last_seen(
    api_settings: Settings, client: TestClient, tenant: Tenant, db: Cluster
) -> None:
    location = create(client, tenant, "/v1/locations", {"name": unique("loc")})
    agent = create(client, tenant, "/v1/agents", {"name": "a", "location": location["name"]})
    app = create_app(api_settings)

    @app.get("/whoami")
    async def whoami(who: Annotated[AgentPrincipal, Depends(require_agent)]) -> dict[str, str]:
        return {"agent": str(who.agent_id), "location": who.location}

    with TestClient(app) as agent_client:
        seen = agent_client.get("/whoami", headers=_bearer(agent["token"]))
        assert seen.json() == {"agent": agent["id"], "location": location["name"]}
        with pool.connect(db.url) as conn:
            first = conn.execute("SELECT last_seen FROM agents WHERE id = %s", (agent["id"],))
            last_seen = first.fetchone()
        agent_client.get("/whoami", headers=_bearer(agent["token"]))
        with pool.connect(db.url) as conn:
            again = conn.execute("SELECT last_seen FROM agents WHERE id = %s", (agent["id"],))
            assert again.fetchone() == last_seen  # not rewritten within 30 s
        assert last_seen is not None and last_seen[0] is not None
        assert_error(agent_client.get("/whoami", headers=tenant.headers), 401, "unauthorized")
        client.delete(f"/v1/agents/{agent['id']}", headers=tenant.headers)
        revoked = agent_client.get("/whoami", headers=_bearer(agent["token"]))
        assert_error(revoked, 401, "unauthorized")
