"""The proxy's on-demand TLS question: ``/v1/public/domains/allowed`` says yes (200) for
a page's verified custom domain only, unauthenticated and rate-limited."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from api.settings import Settings
from tests.conftest import Cluster
from tests.integration.api.conftest import ADMIN_TOKEN, assert_error, create, new_tenant, unique
from tests.integration.api.test_api_custom_domain import DnsServer

pytestmark = pytest.mark.db

ASK = "/v1/public/domains/allowed"


@pytest.fixture
def client(db: Cluster, tmp_path: Path) -> Iterator[tuple[TestClient, DnsServer]]:
    dns = DnsServer()
    settings = Settings(
        database_url=db.url,
        admin_token=SecretStr(ADMIN_TOKEN),
        data_dir=tmp_path,
        dns_server=f"127.0.0.1:{dns.port}",
        public_rate="5/second",
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client, dns
    dns.close()


def _allowed(client: TestClient, domain: str) -> int:
    return int(client.get(ASK, params={"domain": domain}).status_code)


def test_only_a_verified_custom_domain_is_allowed(client: tuple[TestClient, DnsServer]) -> None:
    app, dns = client
    tenant = new_tenant(app)
    domain = f"{unique('tls')}.example.com"
    page = create(app, tenant, "/v1/pages", {
        "name": "Acme", "slug": unique("acme"), "custom_domain": domain,
    })  # fmt: skip
    assert_error(app.get(ASK, params={"domain": domain}), 404, "not_found")
    dns.records[page["custom_domain"]["txt_record"]] = page["custom_domain"]["txt_value"]
    verify = app.post(f"/v1/pages/{page['id']}/domain/verify", headers=tenant.headers)
    assert verify.status_code == 200
    deadline = time.monotonic() + 5
    while _allowed(app, domain) != 200:
        assert time.monotonic() < deadline, "the verified domain was never allowed"
        time.sleep(0.05)
    answer = app.get(ASK, params={"domain": domain.upper() + "."})
    assert answer.status_code == 200 and answer.json() == {"domain": domain}
    assert _allowed(app, f"other.{domain}") == 404
    assert_error(app.get(ASK), 422, "invalid")


def test_the_question_is_rate_limited(client: tuple[TestClient, DnsServer]) -> None:
    app, _ = client
    answers = [_allowed(app, f"{unique('x')}.example.com") for _ in range(8)]
    assert answers[:5] == [404] * 5 and 429 in answers[5:]
