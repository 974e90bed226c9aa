"""Happy paths of every /v1 resource against the real store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from probes.result import CallResult, Outcome
from store import pool, results
from tests.conftest import Cluster, Run
from tests.integration.api.conftest import Tenant, create, unique

pytestmark = pytest.mark.db


def _location(client: TestClient, tenant: Tenant) -> dict[str, Any]:
    return create(client, tenant, "/v1/locations", {"name": unique("loc")})


def _probe(client: TestClient, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    body = {"name": unique("probe"), "kind": "sip_options", "target": "sip:ping@127.0.0.1:5060"}
    return create(client, tenant, "/v1/probes", {**body, **fields})


def _schedules(db: Cluster, probe_id: str) -> dict[tuple[str, str], datetime]:
    with pool.connect(db.url) as conn:
        rows = conn.execute(
            "SELECT location_id::text, target, next_due FROM schedules WHERE probe_id = %s",
            (probe_id,),
        ).fetchall()
    return {(row[0], row[1]): row[2] for row in rows}


def test_project_and_no_framing_headers(client: TestClient, tenant: Tenant) -> None:
    response = client.get("/v1/project", headers=tenant.headers)
    assert response.status_code == 200
    assert response.json()["id"] == tenant.project_id
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["content-security-policy"] == "frame-ancestors 'none'"
    assert response.headers["cache-control"] == "no-store"
    assert client.get("/openapi.json").headers["x-frame-options"] == "DENY"


def test_keys_list_create_revoke(client: TestClient, tenant: Tenant) -> None:
    key = create(client, tenant, "/v1/keys", {"name": "ci", "scope": "read"})
    assert key["token"].startswith("cp_") and key["prefix"] == key["token"][:10]
    listed = client.get("/v1/keys", headers=tenant.headers).json()
    assert {k["prefix"] for k in listed} >= {key["prefix"]}
    assert all("token" not in k for k in listed)
    assert client.delete(f"/v1/keys/{key['id']}", headers=tenant.headers).status_code == 204
    revoked = [
        k for k in client.get("/v1/keys", headers=tenant.headers).json() if k["id"] == key["id"]
    ]
    assert revoked[0]["revoked_at"] is not None


def test_locations_crud(client: TestClient, tenant: Tenant) -> None:
    location = _location(client, tenant)
    path = f"/v1/locations/{location['id']}"
    assert client.get(path, headers=tenant.headers).json()["name"] == location["name"]
    assert [loc["id"] for loc in client.get("/v1/locations", headers=tenant.headers).json()] == [
        location["id"]
    ]
    assert client.delete(path, headers=tenant.headers).status_code == 204
    assert client.get(path, headers=tenant.headers).status_code == 404


def test_agents_create_list_revoke(client: TestClient, tenant: Tenant) -> None:
    location = _location(client, tenant)
    agent = create(client, tenant, "/v1/agents", {"name": "edge", "location": location["name"]})
    assert agent["token"].startswith("cpa_") and agent["location"] == location["name"]
    listed = client.get("/v1/agents", headers=tenant.headers).json()
    assert [a["id"] for a in listed] == [agent["id"]] and "token" not in listed[0]
    assert client.delete(f"/v1/agents/{agent['id']}", headers=tenant.headers).status_code == 204
    assert client.get("/v1/agents", headers=tenant.headers).json()[0]["revoked_at"] is not None


def test_probe_crud_and_secret_never_returned(client: TestClient, tenant: Tenant) -> None:
    location = _location(client, tenant)
    probe = _probe(
        client, tenant, kind="sip_register", locations=[location["name"]],
        options={"username": "alice"}, secret="s3cret-pass", policy={"quorum": 1},
    )  # fmt: skip
    assert probe["has_secret"] is True and probe["push_token"] is None
    assert probe["options"] == {"username": "alice"} and probe["policy"] == {"quorum": 1}
    path = f"/v1/probes/{probe['id']}"
    fetched = client.get(path, headers=tenant.headers)
    assert "s3cret-pass" not in fetched.text and fetched.json()["locations"] == [location["name"]]
    patched = client.patch(path, json={"interval_s": 120, "secret": None}, headers=tenant.headers)
    assert patched.status_code == 200, patched.text
    assert patched.json()["interval_s"] == 120 and patched.json()["has_secret"] is False
    listed = client.get("/v1/probes", headers=tenant.headers).json()
    assert [p["id"] for p in listed] == [probe["id"]]
    assert client.delete(path, headers=tenant.headers).status_code == 204
    assert client.get(path, headers=tenant.headers).status_code == 404


def test_secret_is_encrypted_at_rest(client: TestClient, tenant: Tenant, db: Cluster) -> None:
    probe = _probe(client, tenant, secret="plain-secret-value")
    with pool.connect(db.url) as conn:
        row = conn.execute("SELECT secret FROM probes WHERE id = %s", (probe["id"],)).fetchone()
    assert row is not None and b"plain-secret-value" not in bytes(row[0])


def test_push_probe_token_shown_once(client: TestClient, tenant: Tenant) -> None:
    probe = _probe(client, tenant, kind="push", target="")
    assert probe["push_token"].startswith("cpp_")
    fetched = client.get(f"/v1/probes/{probe['id']}", headers=tenant.headers).json()
    assert "push_token" not in fetched


def test_schedules_follow_the_probe(client: TestClient, tenant: Tenant, db: Cluster) -> None:
    first, second = _location(client, tenant), _location(client, tenant)
    replica = "sip:ping@127.0.0.2:5060"
    probe = _probe(client, tenant, locations=[first["name"]], replicas=[replica])
    path = f"/v1/probes/{probe['id']}"
    before = _schedules(db, probe["id"])
    assert set(before) == {(first["id"], probe["target"]), (first["id"], replica)}
    assert len(set(before.values())) == 1  # a probe's rows run the same round
    client.patch(path, json={"locations": [first["name"], second["name"]]}, headers=tenant.headers)
    after = _schedules(db, probe["id"])
    assert len(after) == 4
    assert all(after[key] == due for key, due in before.items())  # kept rows keep next_due
    assert set(after.values()) == set(before.values())  # a new location joins that round
    client.patch(path, json={"replicas": []}, headers=tenant.headers)
    assert {target for _, target in _schedules(db, probe["id"])} == {probe["target"]}
    client.patch(path, json={"enabled": False}, headers=tenant.headers)
    assert _schedules(db, probe["id"]) == {}


def test_thresholds_crud(client: TestClient, tenant: Tenant) -> None:
    probe = _probe(client, tenant)
    path = f"/v1/probes/{probe['id']}/thresholds"
    rule = create(client, tenant, path, {"metric": "rtt_ms", "warning": 100, "critical": 300})
    assert (rule["metric"], rule["warning"], rule["critical"]) == ("rtt_ms", 100, 300)
    put = client.put(f"{path}/mos", json={"warning": 3.5, "critical": 3.0}, headers=tenant.headers)
    assert put.status_code == 200, put.text
    assert [r["metric"] for r in client.get(path, headers=tenant.headers).json()] == [
        "mos",
        "rtt_ms",
    ]
    assert client.delete(f"{path}/mos", headers=tenant.headers).status_code == 204
    assert client.delete(f"{path}/mos", headers=tenant.headers).status_code == 404


def test_maintenance_crud(client: TestClient, tenant: Tenant) -> None:
    probe = _probe(client, tenant)
    starts = datetime(2030, 1, 1, tzinfo=UTC)
    window = create(client, tenant, "/v1/maintenance", {
        "title": "upgrade", "probe_id": probe["id"], "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=2)).isoformat(),
    })  # fmt: skip
    assert window["probe_id"] == probe["id"]
    assert [w["id"] for w in client.get("/v1/maintenance", headers=tenant.headers).json()] == [
        window["id"]
    ]
    path = f"/v1/maintenance/{window['id']}"
    assert client.delete(path, headers=tenant.headers).status_code == 204
    assert client.delete(path, headers=tenant.headers).status_code == 404


def test_results_raw_bucketed_and_csv(
    client: TestClient, tenant: Tenant, db: Cluster, run: Run[Any]
) -> None:
    probe = _probe(client, tenant)
    base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    runs = ((0, Outcome.OK, 10.0), (1, Outcome.OK, 30.0), (70, Outcome.SIP_ERROR, None))
    stored = [
        CallResult(
            probe=probe["name"],
            probe_id=probe["id"],
            target=probe["target"],
            kind="sip_options",
            started_at=base + timedelta(minutes=minute),
            outcome=outcome,
            rtt_ms=rtt,
        )
        for minute, outcome, rtt in runs
    ]

    async def insert() -> None:
        async with pool.transaction(db.url) as conn:
            await results.insert_results(conn, stored, tenant.project_id)  # type: ignore[arg-type]

    run(insert())
    path = f"/v1/probes/{probe['id']}/results"
    raw = client.get(path, headers=tenant.headers).json()
    assert [r["outcome"] for r in raw["results"]] == ["sip_error", "ok", "ok"]
    hourly = client.get(path, params={"bucket": "1h"}, headers=tenant.headers).json()["buckets"]
    assert [(b["runs"], b["ok_runs"]) for b in hourly] == [(2, 2), (1, 0)]
    assert hourly[0]["metrics"]["rtt_ms"] == {"avg": 20.0, "min": 10.0, "max": 30.0}
    csv_text = client.get(path, params={"format": "csv", "limit": 2}, headers=tenant.headers)
    assert csv_text.headers["content-type"].startswith("text/csv")
    lines = csv_text.text.strip().splitlines()
    assert lines[0].startswith("run_id,") and len(lines) == 3
    bucket_csv = client.get(path, params={"format": "csv", "bucket": "1d"}, headers=tenant.headers)
    assert bucket_csv.text.splitlines()[0].startswith("bucket,runs,ok_runs,pesq_mos_avg")
