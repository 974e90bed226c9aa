"""The whole way from an agent's result to a signed notice: a silent call posted through
the agent API turns its probe unhealthy, and the app's own dispatcher tells the project's
webhook (a real loopback receiver) with the reason the engine gave, once."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.conftest import Cluster
from tests.integration.api.channel_helpers import signed_by, webhook
from tests.integration.api.conftest import create, new_tenant, unique
from tests.integration.api.test_api_no_audio import silent_call
from tests.integration.notify.receiver import serving

pytestmark = pytest.mark.db


def _post_silent_call(
    client: TestClient, db: Cluster, probe_id: str, agent: dict[str, Any]
) -> None:
    with psycopg.connect(db.url, autocommit=True) as conn:
        conn.execute(
            "UPDATE schedules SET next_due = now() - interval '1 second' WHERE probe_id = %s",
            (probe_id,),
        )
    headers = {"Authorization": f"Bearer {agent['token']}"}
    leased = client.post(
        "/v1/agent/lease", json={"location": agent["location"], "max_runs": 1}, headers=headers
    )
    [run] = leased.json()["runs"]
    result = silent_call(run["run_id"], datetime.now(UTC))
    posted = client.post("/v1/agent/results", json={"results": [result.to_json()]}, headers=headers)
    assert posted.json()["accepted"] == 1, posted.text


def test_a_probe_turning_unhealthy_is_told_to_its_webhook_once(
    dispatching_client: TestClient, db: Cluster
) -> None:
    client = dispatching_client
    tenant = new_tenant(client)
    location = create(client, tenant, "/v1/locations", {"name": unique("loc")})["name"]
    token = create(client, tenant, "/v1/agents", {"name": "a", "location": location})["token"]
    body = {"name": "SIP trunk A", "kind": "sip_call", "target": "sip:mute@127.0.0.1:5293"}
    probe = create(client, tenant, "/v1/probes", {**body, "locations": [location]})
    with serving() as receiver:
        made = webhook(client, tenant, receiver.url)
        _post_silent_call(client, db, probe["id"], {"token": token, "location": location})
        [request] = receiver.wait_for(1, 15)
        time.sleep(1.5)  # a few more dispatcher passes: nothing else may arrive
        assert len(receiver.requests) == 1
    notice = request.json()
    assert (notice["type"], notice["to_state"]) == ("probe.health_changed", "unhealthy")
    assert notice["probe"] == {"id": probe["id"], "name": "SIP trunk A", "kind": "sip_call",
                               "tags": []}  # fmt: skip
    assert notice["reasons"] and all(reason["state"] == "unhealthy" for reason in notice["reasons"])
    assert notice["cause"] and notice["incident"]["dedup_key"].startswith("callprobe:")
    assert request.headers["webhook-id"] == request.headers["idempotency-key"]
    assert signed_by(request, made["signing_secret"])
