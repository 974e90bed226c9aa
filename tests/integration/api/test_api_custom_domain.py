"""Custom domains: verified through a DNS TXT record served by a local DNS server,
then the page answers at the root of that Host and nothing else does."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from tests.conftest import Cluster
from tests.integration.api.conftest import ADMIN_TOKEN, assert_error, create, new_tenant, unique
from tests.integration.udp_peer import UdpPeer

pytestmark = pytest.mark.db


class DnsServer(UdpPeer):
    """A UDP DNS server on loopback answering TXT queries from ``records``."""

    def __init__(self) -> None:
        self.records: dict[str, str] = {}
        super().__init__()

    def answer(self, data: bytes) -> bytes:
        query = dns.message.from_wire(data)
        response = dns.message.make_response(query)
        name = query.question[0].name.to_text().rstrip(".")
        if name in self.records:
            response.answer.append(dns.rrset.from_text(
                name + ".", 60, dns.rdataclass.IN, dns.rdatatype.TXT, f'"{self.records[name]}"',
            ))  # fmt: skip
        else:
            response.set_rcode(dns.rcode.NXDOMAIN)
        wire: bytes = response.to_wire()
        return wire


@pytest.fixture
def dns_server() -> Iterator[DnsServer]:
    server = DnsServer()
    yield server
    server.close()


@pytest.fixture
def domain_client(db: Cluster, tmp_path: Path, dns_server: DnsServer) -> Iterator[TestClient]:
    settings = Settings(
        database_url=db.url,
        admin_token=ADMIN_TOKEN,
        data_dir=tmp_path,
        dns_server=f"127.0.0.1:{dns_server.port}",
    )
    with TestClient(create_app(settings)) as client:
        yield client


def _eventually(check: object, seconds: float = 5.0) -> None:
    """Wait for ``check()`` (the domain map reloads when the change notice arrives)."""
    assert callable(check)
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "custom domain map did not follow the change"
        time.sleep(0.05)


def test_page_answers_on_its_domain_only_once_verified(
    domain_client: TestClient, dns_server: DnsServer
) -> None:
    client, tenant = domain_client, new_tenant(domain_client)
    domain = f"{unique('status')}.example.com"
    page = create(client, tenant, "/v1/pages", {
        "name": "Acme Voice", "slug": unique("acme"), "custom_domain": domain,
    })  # fmt: skip
    record = page["custom_domain"]
    assert record["txt_record"] == f"_callprobe-challenge.{domain}"
    assert record["verified"] is False
    host = {"host": domain}
    assert_error(client.get("/", headers=host), 404, "not_found")

    verify = f"/v1/pages/{page['id']}/domain/verify"
    error = assert_error(client.post(verify, headers=tenant.headers), 422, "invalid")
    assert "no TXT record" in error["message"]
    dns_server.records[record["txt_record"]] = "callprobe-verification=wrong"
    error = assert_error(client.post(verify, headers=tenant.headers), 422, "invalid")
    assert "wrong" in error["message"]

    dns_server.records[record["txt_record"]] = record["txt_value"]
    verified = client.post(verify, headers=tenant.headers)
    assert verified.status_code == 200 and verified.json()["custom_domain"]["verified"]
    _eventually(lambda: client.get("/", headers=host).status_code == 200)
    html = client.get("/", headers=host).text
    assert "Acme Voice" in html and 'href="/history.atom"' in html
    assert client.get("/api/v2/status.json", headers=host).status_code == 200
    assert client.get("/static/page.css", headers=host).status_code == 200
    assert_error(client.get("/v1/pages", headers={**host, **tenant.headers}), 404, "not_found")
    assert_error(client.get(f"/s/{page['slug']}", headers=host), 404, "not_found")

    moved = client.patch(
        f"/v1/pages/{page['id']}", json={"custom_domain": f"new.{domain}"}, headers=tenant.headers
    )
    assert moved.json()["custom_domain"]["verified"] is False
    _eventually(lambda: client.get("/", headers=host).status_code == 404)


def test_verify_needs_a_domain_and_a_write_key(domain_client: TestClient) -> None:
    client, tenant = domain_client, new_tenant(domain_client)
    page = create(client, tenant, "/v1/pages", {"name": "x", "slug": unique("nodomain")})
    verify = f"/v1/pages/{page['id']}/domain/verify"
    assert_error(client.post(verify, headers=tenant.headers), 422, "invalid")
    assert_error(client.post(verify), 401, "unauthorized")
