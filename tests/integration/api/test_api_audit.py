"""The audit log through the API: a change made with a key names the key, settings come
before/after with only what changed moving and never a secret, newest first with paging,
CSV export, and each project sees only its own log."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.api.channel_helpers import SECRET
from tests.integration.api.conftest import Tenant, create, new_tenant, unique

pytestmark = pytest.mark.db

SIP_PASSWORD = "s3cret-sip-password"


def _log(client: TestClient, tenant: Tenant, **query: Any) -> list[dict[str, Any]]:
    response = client.get("/v1/audit", params=query, headers=tenant.headers)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()
    return entries


def test_a_change_by_key_names_the_key_with_settings_after(
    client: TestClient, tenant: Tenant
) -> None:
    name = unique("loc")
    create(client, tenant, "/v1/locations", {"name": name})
    newest = _log(client, tenant)[0]
    assert newest["action"] == "create" and newest["target_type"] == "location"
    assert newest["via"] == "api"
    assert newest["actor"].startswith("API key initial (cp_")
    assert newest["after"] == {"name": name} and newest["before"] is None
    created = [e for e in _log(client, tenant) if e["target_type"] == "project"]
    assert created and created[0]["actor"] == "admin token"


def test_a_probe_update_has_before_and_after_and_no_secret(
    client: TestClient, tenant: Tenant
) -> None:
    location = unique("loc")
    create(client, tenant, "/v1/locations", {"name": location})
    probe = create(client, tenant, "/v1/probes", {
        "name": "Trunk", "kind": "sip_options", "target": "sip:pbx.example.net",
        "interval_s": 60, "timeout_s": 5, "locations": [location], "secret": SIP_PASSWORD,
    })  # fmt: skip
    changed = client.patch(
        f"/v1/probes/{probe['id']}", json={"interval_s": 30, "secret": SIP_PASSWORD + "2"},
        headers=tenant.headers,
    )  # fmt: skip
    assert changed.status_code == 200, changed.text
    update = _log(client, tenant)[0]
    assert (update["action"], update["target_id"]) == ("update", probe["id"])
    assert update["before"]["interval_s"] == 60 and update["after"]["interval_s"] == 30
    assert update["before"]["name"] == update["after"]["name"] == "Trunk"
    assert SIP_PASSWORD not in json.dumps(_log(client, tenant))


def test_channel_secrets_never_reach_the_log(client: TestClient, tenant: Tenant) -> None:
    made = create(client, tenant, "/v1/channels", {
        "name": "ops", "kind": "webhook", "config": {"url": "http://127.0.0.1:9/hook"},
        "secrets": {"signing_secrets": [SECRET], "headers": {"Authorization": "Bearer zz-top"}},
    })  # fmt: skip
    client.post(f"/v1/channels/{made['id']}/pause", headers=tenant.headers)
    text = json.dumps(_log(client, tenant))
    assert SECRET not in text and "zz-top" not in text
    pause, create_entry = _log(client, tenant)[:2]
    assert pause["action"] == "pause" and create_entry["action"] == "create"
    assert sorted(create_entry["after"]["secrets_set"]) == ["headers", "signing_secrets"]


def test_paging_csv_and_tenancy(client: TestClient, tenant: Tenant) -> None:
    for _ in range(3):
        create(client, tenant, "/v1/locations", {"name": unique("loc")})
    everything = _log(client, tenant)
    ids = [e["id"] for e in everything]
    assert ids == sorted(ids, reverse=True)
    older = _log(client, tenant, before=ids[0], limit=2)
    assert [e["id"] for e in older] == ids[1:3]

    exported = client.get("/v1/audit", params={"format": "csv"}, headers=tenant.headers)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [int(r["id"]) for r in rows] == ids
    assert json.loads(rows[0]["after"]) == everything[0]["after"]

    other = new_tenant(client)
    assert {e["target_type"] for e in _log(client, other)} == {"project", "api_key"}
    assert client.get("/v1/audit").status_code == 401


def test_csv_cells_do_not_start_formulas(client: TestClient, tenant: Tenant) -> None:
    key = create(client, tenant, "/v1/keys", {"name": "=HYPERLINK(1)", "scope": "read"})
    reader = Tenant(project_id=tenant.project_id, token=key["token"])
    create(client, tenant, "/v1/locations", {"name": unique("loc")})
    exported = client.get("/v1/audit", params={"format": "csv"}, headers=reader.headers)
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert all(not r["actor"].startswith("=") for r in rows)
    assert any(r["after"].startswith('{"name": "=HYPERLINK') for r in rows)


@pytest.mark.parametrize("path", ["/v1/audit", "/v1/channels/{channel}/deliveries"])
def test_a_paging_cursor_past_bigint_is_refused_not_sent_to_the_database(
    client: TestClient, tenant: Tenant, path: str
) -> None:
    """Found by schemathesis: ``before=2**63`` reached PostgreSQL and failed as a 500."""
    url = path.format(channel="00000000-0000-0000-0000-000000000000")
    answer = client.get(url, params={"before": 2**63}, headers=tenant.headers)
    assert answer.status_code == 422, answer.text
    assert client.get(url, params={"before": 2**63 - 1}, headers=tenant.headers).status_code in {
        200,
        404,
    }
