"""Tenant and agent hardening (issue 9): each test performs the attack through the API
on the real database and checks the defence."""

from __future__ import annotations

import csv
import io
import random
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from api.settings import Settings
from api.state import of as state_of
from probes.result import CallResult, Outcome
from store.errors import StatementTimeout
from store.pool import Pool, transaction
from tests.conftest import Cluster
from tests.integration.api.conftest import (
    ADMIN_TOKEN,
    Tenant,
    assert_error,
    create,
    new_tenant,
    unique,
)
from tests.integration.api.test_api_custom_domain import DnsServer

pytestmark = pytest.mark.db


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _sql(db: Cluster, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(db.url, autocommit=True) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []


class AgentWorld:
    """A tenant's location with two agents (tokens) and one TCP probe there."""

    def __init__(self, client: TestClient, tenant: Tenant, db: Cluster) -> None:
        self.client, self.db = client, db
        self.location = create(client, tenant, "/v1/locations", {"name": unique("loc")})["name"]
        self.tokens = [
            create(client, tenant, "/v1/agents", {"name": n, "location": self.location})["token"]
            for n in ("a", "b")
        ]
        probe = {"name": "tcp", "kind": "tcp", "target": "127.0.0.1:9"}
        self.probe = create(client, tenant, "/v1/probes", {**probe, "locations": [self.location]})
        self.health_path = f"/v1/probes/{self.probe['id']}/health"
        self.tenant = tenant

    def make_due(self) -> None:
        _sql(
            self.db,
            "UPDATE schedules SET next_due = now() - interval '1 second' WHERE probe_id = %s",
            self.probe["id"],
        )

    def lease(self, agent: int) -> list[dict[str, Any]]:
        body = {"location": self.location, "max_runs": 5}
        response = self.client.post(
            "/v1/agent/lease", json=body, headers=_bearer(self.tokens[agent])
        )
        assert response.status_code == 200, response.text
        runs: list[dict[str, Any]] = response.json()["runs"]
        return runs

    def post(self, agent: int, run_id: str, started_at: datetime, **fields: Any) -> dict[str, Any]:
        result = CallResult(
            run_id=uuid.UUID(run_id),
            kind="tcp",
            target="claimed",
            outcome=Outcome.OK,
            latency_ms=3.0,
            started_at=started_at,
            **fields,
        )
        response = self.client.post(
            "/v1/agent/results",
            json={"results": [result.to_json()]},
            headers=_bearer(self.tokens[agent]),
        )
        assert response.status_code == 200, response.text
        report: dict[str, Any] = response.json()
        return report

    def stored(self) -> int:
        rows = _sql(
            self.db, "SELECT count(*) FROM call_results WHERE probe_id = %s", self.probe["id"]
        )
        return int(rows[0][0])

    def health(self) -> Any:
        return self.client.get(self.health_path, headers=self.tenant.headers).json()

    def judged_only_unknown(self) -> bool:
        """No result moved health: a new probe is judged once, with nothing to go on."""
        return all(row["state"] == "unknown" for row in self.health())


@pytest.fixture
def world(client: TestClient, tenant: Tenant, db: Cluster) -> AgentWorld:
    """A tenant's agent world whose probe is due now."""
    agents = AgentWorld(client, tenant, db)
    agents.make_due()
    return agents


def _refused(report: dict[str, Any], run_id: str, reason: str) -> None:
    assert (report["accepted"], report["duplicates"]) == (0, 0), report
    [refusal] = report["refused"]
    assert refusal["index"] == 0 and refusal["run_id"] == run_id
    assert reason in refusal["reason"] and report["rejected"] == [refusal["reason"]]


def _chunks_covering(db: Cluster, moment: datetime) -> int:
    rows = _sql(
        db,
        "SELECT count(*) FROM timescaledb_information.chunks"
        " WHERE hypertable_name = 'call_results' AND range_start <= %s AND range_end > %s",
        moment,
        moment,
    )
    return int(rows[0][0])


def test_a_result_counts_only_from_the_agent_holding_the_run(world: AgentWorld) -> None:
    [leased] = world.lease(0)
    now = datetime.now(UTC)
    _refused(world.post(1, leased["run_id"], now), leased["run_id"], "not leased to this agent")
    never = str(uuid.uuid4())
    _refused(world.post(0, never, now), never, "not leased to this agent")
    assert world.stored() == 0 and world.judged_only_unknown()

    assert world.post(0, leased["run_id"], now)["accepted"] == 1
    assert world.stored() == 1


def test_a_result_dated_outside_its_lease_is_refused_and_makes_no_chunk(
    world: AgentWorld, db: Cluster
) -> None:
    [leased] = world.lease(0)
    run_id = leased["run_id"]
    future = datetime(2100 + random.randrange(100), 1 + random.randrange(12), 15, tzinfo=UTC)
    chunks_before = _chunks_covering(db, future)

    _refused(world.post(0, run_id, future), run_id, "is outside its lease")
    long_before = datetime.fromisoformat(leased["lease_expires"]) - timedelta(days=3)
    _refused(world.post(0, run_id, long_before), run_id, "is outside its lease")
    assert world.stored() == 0
    assert _chunks_covering(db, future) == chunks_before
    assert world.judged_only_unknown()

    # Within the lease (and the default 60 s skew) the same run is stored once.
    assert world.post(0, run_id, datetime.now(UTC) + timedelta(seconds=30))["accepted"] == 1
    assert world.post(0, run_id, datetime.now(UTC))["duplicates"] == 1
    assert world.stored() == 1


def test_a_reissued_lease_takes_one_result_from_its_holders_only(
    world: AgentWorld, db: Cluster
) -> None:
    [first] = world.lease(0)
    _sql(
        db,
        "UPDATE runs SET lease_expires = now() - interval '1 second' WHERE run_id = %s",
        first["run_id"],
    )
    [again] = world.lease(1)
    assert again["run_id"] == first["run_id"] and again["attempt"] == 2

    # Both agents held it (issue 13: a cut-off agent's late result counts): the first
    # result wins, the other is a duplicate, and only one is stored.
    assert world.post(1, again["run_id"], datetime.now(UTC))["accepted"] == 1
    assert world.post(0, first["run_id"], datetime.now(UTC))["duplicates"] == 1
    assert world.stored() == 1


def _patch(client: TestClient, tenant: Tenant, probe: dict[str, Any], body: dict[str, Any]) -> Any:
    response = client.patch(f"/v1/probes/{probe['id']}", json=body, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()


def _stored_secret(db: Cluster, probe: dict[str, Any]) -> bytes | None:
    [(secret,)] = _sql(db, "SELECT secret FROM probes WHERE id = %s", probe["id"])
    return None if secret is None else bytes(secret)


def test_moving_a_register_probe_clears_its_password_unless_sent_again(
    client: TestClient, tenant: Tenant, db: Cluster
) -> None:
    probe = create(client, tenant, "/v1/probes", {
        "name": "reg", "kind": "sip_register", "target": "sip:pbx.example.net",
        "options": {"username": "alice"}, "secret": "s3cret",
    })  # fmt: skip
    assert probe["has_secret"]
    assert _patch(client, tenant, probe, {"interval_s": 120})["has_secret"]
    assert _patch(client, tenant, probe, {"options": {"username": "alice"}})["has_secret"]

    moved = _patch(client, tenant, probe, {"target": "sip:attacker.example"})
    assert moved["has_secret"] is False and _stored_secret(db, probe) is None
    resent = {"target": "sip:pbx.example.net", "secret": "s3cret"}
    assert _patch(client, tenant, probe, resent)["has_secret"]

    for change in ({"username": "bob"}, {"username": "alice", "realm": "evil.example"}):
        assert _patch(client, tenant, probe, {"secret": "s3cret"})["has_secret"]
        assert _patch(client, tenant, probe, {"options": change})["has_secret"] is False


def test_moving_a_call_probe_or_its_registrar_clears_its_password(
    client: TestClient, tenant: Tenant
) -> None:
    options = {"registrar": "sip:pbx.example.net", "username": "alice", "realm": "pbx"}
    probe = create(client, tenant, "/v1/probes", {
        "name": "call", "kind": "sip_call", "target": "sip:echo@pbx.example.net",
        "options": options, "secret": "s3cret",
    })  # fmt: skip
    assert _patch(client, tenant, probe, {"options": {**options, "talk_s": 5}})["has_secret"]
    changes: list[dict[str, Any]] = [
        {"options": {**options, "registrar": "sip:attacker.example"}},
        {"replicas": ["sip:echo@attacker.example"]},
        {"target": "sip:echo@attacker.example"},
    ]
    for change in changes:
        assert _patch(client, tenant, probe, change)["has_secret"] is False
        assert _patch(client, tenant, probe, {"secret": "s3cret"})["has_secret"]
    assert _patch(client, tenant, probe, {"target": "sip:x@a.example", "secret": "s"})["has_secret"]


@pytest.fixture(scope="module")
def tight(api_settings: Settings) -> Iterator[TestClient]:
    """An app with small quotas and a short statement timeout."""
    settings = api_settings.model_copy(
        update={
            "max_probes_per_project": 3,
            "max_pages_per_project": 1,
            "max_components_per_page": 1,
            "max_agents_per_project": 1,
            "statement_timeout_ms": 300,
        }
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _quota_error(response: Any, noun: str) -> None:
    error = assert_error(response, 409, "quota_exceeded")
    assert noun in error["message"]


def test_probe_quota_holds_under_concurrent_creates(tight: TestClient) -> None:
    tenant, other = new_tenant(tight), new_tenant(tight)

    def create_probe(n: int) -> int:
        body = {"name": f"p{n}", "kind": "tcp", "target": "127.0.0.1:9"}
        status: int = tight.post("/v1/probes", json=body, headers=tenant.headers).status_code
        return status

    with ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(create_probe, range(8)))
    assert codes == [201] * 3 + [409] * 5
    body = {"name": "more", "kind": "tcp", "target": "127.0.0.1:9"}
    _quota_error(tight.post("/v1/probes", json=body, headers=tenant.headers), "probes")
    assert len(tight.get("/v1/probes", headers=tenant.headers).json()) == 3
    create(tight, other, "/v1/probes", body)  # another project has its own quota


def test_page_component_and_agent_quotas(tight: TestClient) -> None:
    tenant = new_tenant(tight)
    probes = [
        create(tight, tenant, "/v1/probes", {"name": n, "kind": "tcp", "target": "127.0.0.1:9"})
        for n in ("a", "b")
    ]
    two = [{"probe_id": p["id"], "name": p["name"]} for p in probes]
    page = {"name": "x", "slug": unique("quota")}
    _quota_error(
        tight.post("/v1/pages", json={**page, "components": two}, headers=tenant.headers),
        "components",
    )
    created = create(tight, tenant, "/v1/pages", {**page, "components": two[:1]})
    patch = tight.patch(
        f"/v1/pages/{created['id']}", json={"components": two}, headers=tenant.headers
    )
    _quota_error(patch, "components")
    again = {"name": "y", "slug": unique("quota")}
    _quota_error(tight.post("/v1/pages", json=again, headers=tenant.headers), "pages")

    location = create(tight, tenant, "/v1/locations", {"name": unique("loc")})["name"]
    agent = create(tight, tenant, "/v1/agents", {"name": "a", "location": location})
    more = tight.post(
        "/v1/agents", json={"name": "b", "location": location}, headers=tenant.headers
    )
    _quota_error(more, "agents")
    tight.delete(f"/v1/agents/{agent['id']}", headers=tenant.headers)
    create(tight, tenant, "/v1/agents", {"name": "b", "location": location})


async def _sleep_on(pool: Pool, seconds: float) -> None:
    async with transaction(pool) as conn:
        await conn.execute("SELECT pg_sleep(%s)", (seconds,))


async def _setting(pool: Pool) -> str:
    async with transaction(pool) as conn:
        row = await (await conn.execute("SHOW statement_timeout")).fetchone()
    assert row is not None
    return str(row[0])


def test_api_sessions_have_a_statement_timeout(client: TestClient, tight: TestClient) -> None:
    assert client.portal is not None and tight.portal is not None
    assert client.portal.call(_setting, state_of(client.app).pool) == "15s"
    pool: Pool = state_of(tight.app).pool
    started = time.monotonic()
    with pytest.raises(StatementTimeout, match="statement timeout"):
        tight.portal.call(_sleep_on, pool, 5.0)
    assert time.monotonic() - started < 3
    tight.portal.call(_sleep_on, pool, 0.05)  # the connection is usable again


@pytest.fixture
def dns_server() -> Iterator[DnsServer]:
    server = DnsServer()
    yield server
    server.close()


def test_an_unverified_domain_claim_does_not_block_the_owner(
    db: Cluster, tmp_path: Path, dns_server: DnsServer
) -> None:
    settings = Settings(
        database_url=db.url,
        admin_token=SecretStr(ADMIN_TOKEN),
        data_dir=tmp_path,
        dns_server=f"127.0.0.1:{dns_server.port}",
    )
    with TestClient(create_app(settings)) as client:
        squatter, owner = new_tenant(client), new_tenant(client)
        domain = f"{unique('status')}.example.com"
        claim = {"name": "Squat", "slug": unique("squat"), "custom_domain": domain}
        squatted = create(client, squatter, "/v1/pages", claim)
        real = {"name": "Acme Voice", "slug": unique("acme"), "custom_domain": domain}
        page = create(client, owner, "/v1/pages", real)

        record = page["custom_domain"]
        dns_server.records[record["txt_record"]] = record["txt_value"]
        verified = client.post(f"/v1/pages/{page['id']}/domain/verify", headers=owner.headers)
        assert verified.status_code == 200 and verified.json()["custom_domain"]["verified"]
        lost = client.get(f"/v1/pages/{squatted['id']}", headers=squatter.headers).json()
        assert lost["custom_domain"] is None
        deadline = time.monotonic() + 5
        while "Acme Voice" not in client.get("/", headers={"host": domain}).text:
            assert time.monotonic() < deadline, "the verified domain never served its page"
            time.sleep(0.05)

        again = client.patch(
            f"/v1/pages/{squatted['id']}", json={"custom_domain": domain}, headers=squatter.headers
        )
        assert again.status_code == 200 and again.json()["custom_domain"]["verified"] is False
        verify = client.post(f"/v1/pages/{squatted['id']}/domain/verify", headers=squatter.headers)
        assert_error(verify, 422, "invalid")
        assert "Acme Voice" in client.get("/", headers={"host": domain}).text


def test_a_deleted_or_renamed_slug_stays_reserved_to_its_project(
    client: TestClient, tenant: Tenant
) -> None:
    other = new_tenant(client)
    slug, renamed = unique("kept"), unique("moved")
    page = create(client, tenant, "/v1/pages", {"name": "Mine", "slug": slug})
    assert client.delete(f"/v1/pages/{page['id']}", headers=tenant.headers).status_code == 204

    error = assert_error(
        client.post("/v1/pages", json={"name": "Taken", "slug": slug}, headers=other.headers),
        409,
        "conflict",
    )
    assert f"slug {slug!r}" in error["message"] and "reserved" in error["message"]
    page = create(client, tenant, "/v1/pages", {"name": "Mine again", "slug": slug})

    moved = client.patch(f"/v1/pages/{page['id']}", json={"slug": renamed}, headers=tenant.headers)
    assert moved.status_code == 200, moved.text
    taken = client.post("/v1/pages", json={"name": "Taken", "slug": slug}, headers=other.headers)
    assert_error(taken, 409, "conflict")
    other_page = create(client, other, "/v1/pages", {"name": "Other", "slug": unique("other")})
    rename = client.patch(
        f"/v1/pages/{other_page['id']}", json={"slug": slug}, headers=other.headers
    )
    assert_error(rename, 409, "conflict")
    create(client, tenant, "/v1/pages", {"name": "Back", "slug": slug})


def test_csv_exports_neutralise_formulas_and_keep_numbers_numeric(
    client: TestClient, tenant: Tenant, world: AgentWorld
) -> None:
    [leased] = world.lease(0)
    far_end = {"sip_reason": '=HYPERLINK("http://evil.example","x")', "error": "+cmd|' /C calc'!A0"}
    report = world.post(0, leased["run_id"], datetime.now(UTC), ie_eff=-2.5, **far_end)
    assert report["accepted"] == 1

    path = f"/v1/probes/{world.probe['id']}/results?format=csv"
    response = client.get(path, headers=tenant.headers)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    [row] = list(csv.DictReader(io.StringIO(response.text)))
    assert row["sip_reason"] == "'" + far_end["sip_reason"]
    assert row["error"] == "'" + far_end["error"]
    assert (row["ie_eff"], row["latency_ms"], row["outcome"]) == ("-2.5", "3.0", "ok")

    names = ["=1+2", "@SUM(A1)", "-2+3", "\tTab", "Plain trunk"]
    components = [{"probe_id": world.probe["id"], "name": names[0]}]
    page = create(client, tenant, "/v1/pages", {"name": "P", "slug": unique("csv"),
                                                "components": components})  # fmt: skip
    extra = [
        create(client, tenant, "/v1/probes", {"name": n, "kind": "tcp", "target": "127.0.0.1:9"})
        for n in names[1:]
    ]
    components += [{"probe_id": p["id"], "name": n} for p, n in zip(extra, names[1:], strict=True)]
    patched = client.patch(
        f"/v1/pages/{page['id']}", json={"components": components}, headers=tenant.headers
    )
    assert patched.status_code == 200, patched.text
    month = datetime.now(UTC).strftime("%Y-%m")
    sla = client.get(f"/s/{page['slug']}/sla/{month}.csv")
    assert sla.status_code == 200, sla.text
    cells = [row["component"] for row in csv.DictReader(io.StringIO(sla.text))]
    assert cells == ["'=1+2", "'@SUM(A1)", "'-2+3", "'\tTab", "Plain trunk"]
