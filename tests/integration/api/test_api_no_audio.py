"""A call with no audio carries no score anywhere, and makes its probe unhealthy.

The result is what ``build_result`` makes of the counters a real silent far end
produced (SIPp's ``uas`` without RTP, see tests/acceptance/test_wire_truth.py):
no packet received, 250 sent. It goes in through the agent API like any result.
"""

from __future__ import annotations

import csv
import io
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from probes.call_probe import CallRequest, build_result
from probes.result import CallResult
from probes.sip.spec import Answer, CallSpec, RawCall, StreamCounters
from tests.conftest import Cluster
from tests.integration.api.conftest import Tenant, create, new_tenant, unique

pytestmark = pytest.mark.db

SCORES = ("pesq_mos", "emodel_mos", "r_factor", "rx_loss_pct", "jitter_ms")


def silent_call(run_id: str, started_at: datetime) -> CallResult:
    """The result of an answered call whose far end never sent RTP."""
    raw = RawCall(
        sip_status=200,
        sip_reason="OK",
        local_status=200,
        local_reason="OK",
        setup_ms=2.8,
        talk_s=5.0,
        stream=StreamCounters(
            codec="PCMU",
            rx_packets=0,
            rx_lost=0,
            rx_jitter_mean_us=0.0,
            rx_jitter_max_us=0.0,
            tx_packets=250,
            tx_lost=None,
            rtt_mean_us=None,
            jb_discards=0,
            jb_empty=249,
            jb_avg_delay_ms=0.0,
        ),
        answer=Answer(codecs=("PCMU/8000",), direction="sendrecv"),
        media_active=True,
    )
    target = "sip:mute@127.0.0.1:5293"
    spec = CallSpec(uri=target, codec="PCMU", reference=Path("ref.wav"), record_to=Path("r.wav"))
    result = build_result(CallRequest(target=target), spec, raw, None, started_at)
    return replace(result, run_id=uuid.UUID(run_id))


def _lease_and_post(client: TestClient, db: Cluster, world: dict[str, Any]) -> None:
    with psycopg.connect(db.url, autocommit=True) as conn:
        conn.execute(
            "UPDATE schedules SET next_due = now() - interval '1 second' WHERE probe_id = %s",
            (world["probe"]["id"],),
        )
    agent = {"Authorization": f"Bearer {world['token']}"}
    leased = client.post(
        "/v1/agent/lease", json={"location": world["location"], "max_runs": 1}, headers=agent
    )
    [run] = leased.json()["runs"]
    result = silent_call(run["run_id"], datetime.now(UTC))
    posted = client.post("/v1/agent/results", json={"results": [result.to_json()]}, headers=agent)
    assert posted.json()["accepted"] == 1, posted.text


def _state(client: TestClient, tenant: Tenant, probe_id: str) -> str | None:
    deadline = time.monotonic() + 15
    state = None
    while time.monotonic() < deadline:
        health = client.get(f"/v1/probes/{probe_id}/health", headers=tenant.headers).json()
        state = {row["location"]: row["state"] for row in health}.get("")
        if state not in (None, "unknown"):
            break
        time.sleep(0.1)
    return state


def test_a_silent_call_stores_no_score_and_turns_its_probe_unhealthy(
    client: TestClient, db: Cluster
) -> None:
    tenant = new_tenant(client)
    location = create(client, tenant, "/v1/locations", {"name": unique("loc")})["name"]
    token = create(client, tenant, "/v1/agents", {"name": "a", "location": location})["token"]
    body = {"name": "trunk", "kind": "sip_call", "target": "sip:mute@127.0.0.1:5293"}
    probe = create(client, tenant, "/v1/probes", {**body, "locations": [location]})
    rule = {"metric": "mos", "warning": 4.0, "critical": 3.5}
    client.put(f"/v1/probes/{probe['id']}/thresholds", json=[rule], headers=tenant.headers)
    _lease_and_post(client, db, {"probe": probe, "token": token, "location": location})

    rows = client.get(f"/v1/probes/{probe['id']}/results", headers=tenant.headers).json()
    [row] = rows if isinstance(rows, list) else rows["results"]
    assert row["outcome"] == "no_audio" and row["audio_failed"] == "inbound"
    assert row["rx_packets"] == 0
    assert all(row[name] is None for name in SCORES)

    exported = client.get(
        f"/v1/probes/{probe['id']}/results", params={"format": "csv"}, headers=tenant.headers
    )
    [cells] = list(csv.DictReader(io.StringIO(exported.text)))
    assert all(cells[name] == "" for name in SCORES)

    assert _state(client, tenant, probe["id"]) == "unhealthy"

    with psycopg.connect(db.url) as conn:
        mos_n, loss_n = conn.execute(
            "SELECT sum(mos_n), sum(loss_n) FROM result_rollup_hourly WHERE probe_id = %s",
            (probe["id"],),
        ).fetchone() or (None, None)
    assert (mos_n, loss_n) == (0, 0)  # charts and the SLA page read these rollups

    metrics = client.get("/metrics", headers=tenant.headers).text
    mos_lines = [
        line
        for line in metrics.splitlines()
        if line.startswith("callprobe_probe_mos{") and probe["id"] in line
    ]
    assert mos_lines == []
