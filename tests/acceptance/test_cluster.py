"""``callprobe cluster up|status|down``: two API processes, a page process, the Caddy proxy
and two agents as real detached processes; requests through the proxy survive a kill -9
of an API; the proxy sends the public pages to the page process only; the
proxy terminates TLS for a verified custom domain only, with a certificate of its local
CA (checked against that CA, the connection pinned to loopback)."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest.mock import patch

import httpx
import pytest

from api.cli.cluster_plan import caddy_root_ca
from api.cli.topology import Topology
from bench import platform_harness as harness
from tests.conftest import Cluster
from tests.integration.api.test_api_custom_domain import DnsServer

pytestmark = pytest.mark.db

PROXY = "http://127.0.0.1:18480"
HTTPS_PORT = 18443
MEMBERS = ["api-1", "api-2", "pages-1", "proxy", "agent-ams-0", "agent-fra-0"]


def _cli(environ: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "api", "cluster", *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def dns() -> Iterator[DnsServer]:
    server = DnsServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def topology(
    db: Cluster, tmp_path_factory: pytest.TempPathFactory, dns: DnsServer
) -> Iterator[tuple[Topology, dict[str, str]]]:
    data = tmp_path_factory.mktemp("cluster")
    environ = harness.env(db.url, data, CALLPROBE_DNS_SERVER=f"127.0.0.1:{dns.port}")
    up = ["up", "--apis", "2", "--pages", "1", "--agents", "ams:1,fra:1", "--no-calls"]
    started = time.monotonic()
    try:
        out = _cli(environ, *up)
        print(f"cluster up in {time.monotonic() - started:.1f} s")
        assert all(f"{name}" in out and "started" in out for name in MEMBERS)
        assert "already running" in _cli(environ, *up)
        yield Topology(data / "cluster"), environ
    finally:
        started = time.monotonic()
        out = _cli(environ, "down")
        print(f"cluster down in {time.monotonic() - started:.1f} s: {out.strip()}")
    assert out.startswith("stopped: agent-ams-0, agent-fra-0, proxy, api-1, api-2, pages-1")
    assert not any(Topology(data / "cluster").alive(name) for name in MEMBERS)


def _restart(cluster: Topology, environ: dict[str, str], name: str) -> bool:
    """Start a member again with the environment ``cluster up`` had (its database, data
    directory and DNS server), as ``cluster up`` itself would."""
    with patch.dict(os.environ, environ):
        return cluster.start(name)


def _key(topology: Topology) -> dict[str, str]:
    return {"Authorization": f"Bearer {topology.state.project['key']}"}


def test_status_names_every_member_and_its_readiness(
    topology: tuple[Topology, dict[str, str]],
) -> None:
    cluster, environ = topology
    lines = _cli(environ, "status").splitlines()
    for name in MEMBERS:
        (row,) = [line for line in lines if f" {name} " in line]
        assert " yes " in row
        assert (" 200 " in row) == (not name.startswith("agent"))
    assert cluster.state_file.stat().st_mode & 0o777 == 0o600
    assert set(cluster.state.tokens) == {"agent-ams-0", "agent-fra-0"}


def test_requests_through_the_proxy_survive_a_killed_api(
    topology: tuple[Topology, dict[str, str]],
) -> None:
    cluster, environ = topology
    with httpx.Client(base_url=PROXY, headers=_key(cluster), timeout=10) as client:
        answer = client.get("/v1/project")
        assert answer.status_code == 200 and answer.headers["x-request-id"]
        cluster.kill("api-1")
        try:
            started = time.monotonic()
            answers = [client.get("/v1/project") for _ in range(40)]
            elapsed = time.monotonic() - started
            agents = client.get("/v1/agents").json()
        finally:
            assert _restart(cluster, environ, "api-1")
    print(f"40 requests after kill -9 of api-1 in {elapsed:.2f} s")
    refused = [(n, a.status_code, a.text[:300]) for n, a in enumerate(answers) if a.is_error]
    assert not refused
    assert httpx.get("http://127.0.0.1:18400/readyz").status_code == 200
    assert {a["name"] for a in agents} == {"agent-ams-0", "agent-fra-0"}


def test_the_public_pages_are_served_by_the_page_process_alone(
    topology: tuple[Topology, dict[str, str]],
) -> None:
    cluster, environ = topology
    slug = f"split-{time.time_ns()}"
    with httpx.Client(base_url=PROXY, headers=_key(cluster), timeout=15) as client:
        client.post("/v1/pages", json={"name": "Split", "slug": slug}).raise_for_status()
        assert client.get(f"/s/{slug}").status_code == 200
        cluster.kill("pages-1")
        try:
            # The APIs could render the page, but the proxy sends pages elsewhere: the page
            # process's absence shows (after the proxy's 5 s of retries), the API does not.
            assert client.get(f"/s/{slug}").status_code == 503
            assert client.get("/v1/project").status_code == 200
        finally:
            assert _restart(cluster, environ, "pages-1")
        assert client.get(f"/s/{slug}").status_code == 200


def _https_get(ca: Path, domain: str) -> httpx.Response:
    """GET https://DOMAIN:18443/ with the connection pinned to 127.0.0.1 (SNI and Host
    say the domain), trusting only the proxy's local CA."""
    context = ssl.create_default_context(cafile=str(ca))
    with httpx.Client(verify=context, timeout=10) as client:
        return client.get(
            f"https://127.0.0.1:{HTTPS_PORT}/",
            headers={"Host": domain},
            extensions={"sni_hostname": domain},
        )


def _page(client: httpx.Client, domain: str) -> dict[str, Any]:
    slug = f"tls-{domain.split('.', maxsplit=1)[0]}"
    body = {"name": f"Status of {domain}", "slug": slug, "custom_domain": domain}
    made = client.post("/v1/pages", json=body)
    made.raise_for_status()
    page: dict[str, Any] = made.json()
    return page


def test_the_proxy_serves_tls_for_verified_custom_domains_only(
    topology: tuple[Topology, dict[str, str]], dns: DnsServer
) -> None:
    cluster, _ = topology
    verified, unverified = f"voice{time.time_ns()}.example.com", f"x{time.time_ns()}.example.com"
    with httpx.Client(base_url=PROXY, headers=_key(cluster), timeout=10) as client:
        page = _page(client, verified)
        _page(client, unverified)
        record = page["custom_domain"]
        dns.records[record["txt_record"]] = record["txt_value"]
        verify = client.post(f"/v1/pages/{page['id']}/domain/verify")
        assert verify.status_code == 200, verify.text
        ask = "/v1/public/domains/allowed"
        deadline = time.monotonic() + 10
        while client.get(ask, params={"domain": verified}).status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert client.get(ask, params={"domain": unverified}).status_code == 404
    started = time.monotonic()
    answer = _https_get(caddy_root_ca(cluster.root), verified)
    print(
        f"first HTTPS request (certificate issued on demand) in {time.monotonic() - started:.2f} s"
    )
    assert answer.status_code == 200, answer.text
    assert f"Status of {verified}" in answer.text
    with pytest.raises(httpx.ConnectError):
        _https_get(caddy_root_ca(cluster.root), unverified)
