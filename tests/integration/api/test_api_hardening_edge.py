"""The HTTP edge under attack: oversized bodies, forged Host headers, cache-busting
query strings, token guessing, metrics across tenants, internal ids in public output,
driver errors in 503s and forged client addresses.

Each test performs the attack against the real app (TestClient, or a real uvicorn
server where the transport matters) on the session's TimescaleDB cluster.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from starlette.types import Message

from api.app import create_app
from api.settings import REPO_ROOT, Settings
from api.state import of as state_of
from store.pool import statement
from tests.conftest import Cluster
from tests.health_history import store_history, store_hourly
from tests.integration.api.conftest import (
    ADMIN_TOKEN,
    Tenant,
    assert_error,
    create,
    new_tenant,
    unique,
)

pytestmark = pytest.mark.db

MIB = 1024 * 1024
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _probe(
    client: TestClient, tenant: Tenant, name: str = "p", kind: str = "sip_call"
) -> dict[str, Any]:
    target = "" if kind == "push" else "sip:secret-target@10.9.8.7:5060"
    return create(
        client, tenant, "/v1/probes", {"name": unique(name), "kind": kind, "target": target}
    )


def _page(client: TestClient, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    return create(
        client, tenant, "/v1/pages", {"name": "Acme Voice", "slug": unique("edge"), **fields}
    )


@contextmanager
def _served(app: FastAPI) -> Iterator[int]:
    """``app`` behind a real uvicorn server on a free loopback port (lifespan run)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(30)


def _status_and_body(data: bytes) -> tuple[int, bytes]:
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def _read_response(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


# 1. Body size ------------------------------------------------------------------------------


def test_a_declared_huge_body_is_refused_before_authentication(api_settings: Settings) -> None:
    head = (
        "POST /v1/probes HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer cp_not-a-key\r\n"
        f"Content-Type: application/json\r\nContent-Length: {4 * 1024 * MIB}\r\n\r\n"
    )
    with (
        _served(create_app(api_settings)) as port,
        socket.create_connection(("127.0.0.1", port)) as sock,
    ):
        sock.settimeout(10)
        sock.sendall(head.encode() + b"{" * 65536)  # the 4 GiB never come
        status, body = _status_and_body(_read_response(sock))
    assert status == 413
    assert b'"code":"payload_too_large"' in body and b"1048576 bytes" in body


def test_a_chunked_stream_is_cut_off_at_the_limit_by_a_real_server(api_settings: Settings) -> None:
    head = (
        "POST /v1/probes HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer cp_not-a-key\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"10000\r\n" + b" " * 65536 + b"\r\n"
    sent = 0
    with (
        _served(create_app(api_settings)) as port,
        socket.create_connection(("127.0.0.1", port)) as sock,
    ):
        sock.settimeout(10)
        sock.sendall(head.encode())
        while sent < 256 * MIB and not select.select([sock], [], [], 0)[0]:
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += 65536
        status, body = _status_and_body(_read_response(sock))
    assert status == 413, body
    assert sent < 32 * MIB, f"the client streamed {sent} bytes before the refusal"


def _stream_into(
    app: FastAPI, path: str, chunk: int, headers: list[tuple[bytes, bytes]]
) -> tuple[int, int]:
    """POST an endless chunked body straight into the ASGI app; (status, chunks it pulled).
    After 400 chunks the stream ends, so an app that reads everything still answers."""
    pulled, status = 0, 0

    async def receive() -> Message:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b" " * chunk, "more_body": pulled < 400}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": [(b"host", b"127.0.0.1"), *headers],
        "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 80),
    }  # fmt: skip
    asyncio.run(app(scope, receive, send))
    return status, pulled


def test_a_streamed_body_is_not_read_past_the_limit(api_settings: Settings) -> None:
    app = create_app(api_settings)
    json_type = (b"content-type", b"application/json")
    status, pulled = _stream_into(
        app, "/v1/probes", 65536, [json_type, (b"authorization", b"Bearer cp_not-a-key")]
    )
    assert (status, pulled) == (413, 17)  # 16 chunks are exactly 1 MiB
    status, pulled = _stream_into(
        app, "/v1/agent/results", MIB, [json_type, (b"authorization", b"Bearer cpa_not-a-token")]
    )
    assert (status, pulled) == (413, 17)  # the results route allows 16 MiB


def test_the_results_route_has_its_own_larger_limit(client: TestClient) -> None:
    bad_agent = {"Authorization": "Bearer cpa_not-a-token", "Content-Type": "application/json"}
    body = b'{"results": [], "pad": "' + b"x" * (2 * MIB) + b'"}'
    assert_error(
        client.post("/v1/agent/results", content=body, headers=bad_agent), 401, "unauthorized"
    )
    bad_key = {"Authorization": "Bearer cp_not-a-key", "Content-Type": "application/json"}
    refused = client.post("/v1/probes", content=body, headers=bad_key)
    assert_error(refused, 413, "payload_too_large")
    huge = b" " * (16 * MIB + 1)
    assert_error(
        client.post("/v1/agent/results", content=huge, headers=bad_agent), 413, "payload_too_large"
    )


def test_image_uploads_keep_their_own_limit_under_the_body_limit(
    client: TestClient, tenant: Tenant
) -> None:
    page = _page(client, tenant)
    url = f"/v1/pages/{page['id']}/images/header_logo"
    logo = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4"><rect width="4"/></svg>'
    assert client.put(url, content=logo, headers=tenant.headers).status_code == 200
    assert_error(
        client.put(url, content=b"x" * (600 * 1024), headers=tenant.headers), 422, "invalid"
    )
    assert_error(
        client.put(url, content=b"x" * (2 * MIB), headers=tenant.headers), 413, "payload_too_large"
    )


# 2. Host header ----------------------------------------------------------------------------


def test_a_forged_host_never_reaches_public_urls_or_other_clients(
    client: TestClient, tenant: Tenant, api_settings: Settings
) -> None:
    probe = _probe(client, tenant)
    page = _page(client, tenant, components=[{"probe_id": probe["id"], "name": "Trunk"}])
    now = datetime.now(UTC)
    assert api_settings.database_url
    store_history(api_settings.database_url, tenant.project_id, probe["id"], [
        (now - timedelta(hours=3), "unhealthy", []), (now - timedelta(hours=2), "healthy", []),
    ])  # fmt: skip
    paths = [f"/s/{page['slug']}{p}" for p in (
        "/api/v2/summary.json", "/api/v2/incidents.json", "/history.atom", "/history.rss", "",
    )]  # fmt: skip
    expected = f"{api_settings.public_url}/s/{page['slug']}"
    for path in paths:
        forged = client.get(path, headers={"host": "evil.example"})
        honest = client.get(path)
        assert forged.status_code == honest.status_code == 200, path
        for response in (forged, honest):
            assert "evil.example" not in response.text, path
        assert forged.content == honest.content, path
    summary = client.get(paths[0], headers={"host": "evil.example"}).json()
    assert summary["page"]["url"] == expected


def test_a_verified_custom_domain_is_the_pages_address_whatever_the_host(
    client: TestClient, tenant: Tenant, api_settings: Settings
) -> None:
    domain = f"{unique('status')}.acme.test"
    page = _page(client, tenant, custom_domain=domain)
    assert api_settings.database_url
    with psycopg.connect(api_settings.database_url) as conn:
        conn.execute(
            "UPDATE status_pages SET domain_verified_at = now() WHERE slug = %s", (page["slug"],)
        )
        conn.execute("SELECT pg_notify('callprobe_pages', %s)", (page["slug"],))
    deadline = time.monotonic() + 10
    while client.get("/api/v2/summary.json", headers={"host": domain}).status_code != 200:
        assert time.monotonic() < deadline, "the custom domain was never routed"
        time.sleep(0.05)
    on_domain = client.get("/api/v2/summary.json", headers={"host": domain}).json()
    on_path = client.get(f"/s/{page['slug']}/api/v2/summary.json", headers={"host": "evil.example"})
    assert on_domain["page"]["url"] == on_path.json()["page"]["url"] == f"http://{domain}"
    feed = client.get("/history.atom", headers={"host": domain}).text
    assert f'href="http://{domain}/history.atom"' in feed


# 3. Public cache keys ----------------------------------------------------------------------


def _renders() -> float:
    return sum(
        REGISTRY.get_sample_value("callprobe_page_renders_total", {"kind": kind}) or 0.0
        for kind in ("view", "page", "json", "component")
    )


def test_random_query_strings_neither_render_nor_grow_the_cache(
    client: TestClient, tenant: Tenant, api_settings: Settings
) -> None:
    probe = _probe(client, tenant)
    page = _page(client, tenant, components=[{"probe_id": probe["id"], "name": "Trunk"}])
    assert api_settings.database_url
    store_hourly(api_settings.database_url, probe["id"], datetime.now(UTC), 24 * 7)
    public_id = page["components"][0]["public_id"]
    base = f"/s/{page['slug']}"
    paths = [base, f"{base}/api/v2/summary.json", f"{base}/components/{public_id}"]
    first = {path: client.get(path).content for path in paths}
    for path in paths:
        assert client.get(path).content == first[path]  # warm: remembered for the fast path
    cache = state_of(client.app).page_cache
    size, renders = len(cache), _renders()
    for _ in range(40):
        for path in paths:
            noise = secrets.token_hex(8)
            response = client.get(f"{path}?{noise}={noise}&utm_source={noise}")
            assert response.status_code == 200 and response.content == first[path]
    for variant in ("days=7", "days=07", "days=007", "days=%37", "days=7&x=1"):
        response = client.get(f"{paths[2]}?{variant}")
        assert response.status_code == 200 and response.content == first[paths[2]], variant
    assert len(cache) <= size + 1  # at most ?days=7 itself
    assert _renders() == renders
    assert client.get(f"{paths[2]}?days=30").content != first[paths[2]]  # a parameter it reads


# 9. Push token in a header, redacted logs, failed authentication ---------------------------


def test_push_takes_its_token_in_the_authorization_header(
    client: TestClient, tenant: Tenant
) -> None:
    probe = _probe(client, tenant, "app", kind="push")
    headers = {"Authorization": f"Bearer {probe['push_token']}"}
    assert client.post("/v1/push", json={"cpu": 0.2}, headers=headers).status_code == 202
    assert client.post(f"/v1/push/{probe['push_token']}").status_code == 202  # the path form stays
    unknown = client.post("/v1/push", headers={"Authorization": "Bearer cpp_unknown"})
    assert_error(unknown, 404, "not_found")
    assert_error(client.post("/v1/push"), 401, "unauthorized")
    stored = client.get(f"/v1/probes/{probe['id']}/results", headers=tenant.headers).json()
    assert len(stored["results"]) == 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_serve_redacts_push_tokens_from_the_access_log(
    client: TestClient, tenant: Tenant, db: Cluster, tmp_path: Path
) -> None:
    token = _probe(client, tenant, "app", kind="push")["push_token"]
    port = _free_port()
    env = {**os.environ, "CALLPROBE_DATABASE_URL": db.url, "CALLPROBE_DATA_DIR": str(tmp_path)}
    server = subprocess.Popen(
        [sys.executable, "-m", "api", "serve", "--port", str(port)],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                pushed = httpx.post(f"http://127.0.0.1:{port}/v1/push/{token}?x=1", json={})
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, "serve did not start"
                time.sleep(0.2)
        assert pushed.status_code == 202
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=30)
    log = output.decode()
    assert '"POST /v1/push/[redacted]?x=1 HTTP/1.1" 202' in log, log
    assert token not in log and token[4:12] not in log


def test_failed_authentication_is_limited_per_client_before_the_lookup(
    api_settings: Settings, tenant: Tenant
) -> None:
    settings = api_settings.model_copy(update={"auth_fail_rate": "3/minute"})
    app = create_app(settings)
    with TestClient(app, client=("198.51.100.7", 4000)) as guesser:
        for _ in range(3):
            bad = {"Authorization": f"Bearer cp_{secrets.token_urlsafe(32)}"}
            assert_error(guesser.get("/v1/probes", headers=bad), 401, "unauthorized")
        refused = guesser.get("/v1/probes", headers=tenant.headers)  # a valid key, too late
        assert_error(refused, 429, "too_many_requests")
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        for path, headers in (
            ("/v1/agent/lease", {"Authorization": "Bearer cpa_x"}),
            ("/v1/projects", {"Authorization": "Bearer wrong"}),
            ("/v1/push", {"Authorization": "Bearer cpp_x"}),
        ):
            assert_error(guesser.post(path, json={}, headers=headers), 429, "too_many_requests")
    with TestClient(app, client=("198.51.100.8", 4000)) as other:
        assert other.get("/v1/probes", headers=tenant.headers).status_code == 200


# 10. /metrics ------------------------------------------------------------------------------


def test_metrics_split_service_metrics_from_project_gauges(client: TestClient) -> None:
    mine, theirs = new_tenant(client), new_tenant(client)
    my_probe, their_probe = _probe(client, mine, "mine"), _probe(client, theirs, "theirs")
    scraped = client.get("/metrics", headers=mine.headers)
    assert scraped.status_code == 200
    text = scraped.text
    assert f'probe_id="{my_probe["id"]}"' in text and my_probe["name"] in text
    assert their_probe["id"] not in text and their_probe["name"] not in text
    for family in ("callprobe_results_ingested", "callprobe_db_", "callprobe_page_renders",
                   "process_", "python_gc", "callprobe_lease_seconds"):  # fmt: skip
        assert family not in text, family
    service = client.get("/metrics", headers=ADMIN)
    assert service.status_code == 200
    for family in ("callprobe_results_ingested_total", "callprobe_db_pool_size ",
                   "callprobe_lease_seconds_bucket"):  # fmt: skip
        assert family in service.text, family
    assert their_probe["id"] not in service.text and my_probe["id"] not in service.text
    assert_error(client.get("/metrics"), 401, "unauthorized")
    assert_error(
        client.get("/metrics", headers={"Authorization": "Bearer nope"}), 401, "unauthorized"
    )


# 11. No internal ids in public output ------------------------------------------------------


def test_no_internal_id_or_prefix_appears_in_any_public_response(
    client: TestClient, tenant: Tenant, api_settings: Settings
) -> None:
    trunk, backup = _probe(client, tenant, "trunk"), _probe(client, tenant, "backup")
    page = _page(client, tenant, components=[
        {"probe_id": trunk["id"], "name": "Trunk", "group": "Voice"},
        {"probe_id": backup["id"], "name": "Backup", "group": "Voice"},
    ])  # fmt: skip
    now = datetime.now(UTC)
    assert api_settings.database_url
    store_history(api_settings.database_url, tenant.project_id, trunk["id"], [
        (now - timedelta(days=2), "unhealthy", []), (now - timedelta(days=1), "healthy", []),
    ])  # fmt: skip
    store_history(api_settings.database_url, tenant.project_id, backup["id"], [
        (now - timedelta(hours=1), "degraded", []),
    ])  # fmt: skip
    store_hourly(api_settings.database_url, trunk["id"], now, 24 * 7)
    soon, later = now + timedelta(days=1), now + timedelta(days=1, hours=2)
    scopes = [
        ({"page_id": page["id"]}, soon),
        ({"probe_id": trunk["id"]}, soon),
        ({}, soon),
        ({"probe_id": backup["id"]}, now - timedelta(minutes=5)),
    ]
    windows = []
    for scope, start in scopes:
        body = {
            "title": "work",
            **scope,
            "starts_at": start.isoformat(),
            "ends_at": later.isoformat(),
        }
        windows.append(create(client, tenant, "/v1/maintenance", body))
    notice = create(
        client, tenant, f"/v1/pages/{page['id']}/announcements", {"title": "hi", "body": "x"}
    )
    internal = [tenant.project_id, page["id"], trunk["id"], backup["id"], notice["id"]]
    internal += [w["id"] for w in windows]
    public_id = page["components"][0]["public_id"]
    base = f"/s/{page['slug']}"
    month = now.strftime("%Y-%m")
    paths = [
        "", "/embed", "/wall", f"/components/{public_id}", "/history.atom", "/history.rss",
        "/badge/status.svg", f"/components/{public_id}/badge/uptime.svg", f"/sla/{month}",
        f"/sla/{month}.json", f"/sla/{month}.csv", "/api/v2/incidents/unresolved.json",
    ]  # fmt: skip
    documents = ("summary", "status", "components", "incidents", "scheduled-maintenances")
    paths += [f"/api/v2/{d}.json" for d in documents]
    planned = client.get(f"{base}/api/v2/scheduled-maintenances.json").json()
    assert len(planned["scheduled_maintenances"]) == 4
    for path in paths:
        response = client.get(base + path)
        assert response.status_code == 200, path
        text = response.text.lower()
        for value in internal:
            hexed = uuid.UUID(value).hex
            assert hexed[:8] not in text, (path, value)
            assert not re.search(re.escape(hexed[-12:]), text), (path, value)
    again = client.get(f"{base}/api/v2/scheduled-maintenances.json").json()
    assert [m["id"] for m in again["scheduled_maintenances"]] == [
        m["id"] for m in planned["scheduled_maintenances"]
    ]


# 13. Errors and proxies --------------------------------------------------------------------


def test_a_503_does_not_echo_the_drivers_error(api_settings: Settings) -> None:
    app = create_app(api_settings)

    @app.get("/test-db-down")
    async def database_down() -> None:
        async with statement("postgresql://callprobe@127.0.0.1:1/nowhere"):
            pass

    with TestClient(app) as test_client:
        response = test_client.get("/test-db-down")
    error = assert_error(response, 503, "unavailable")
    assert error["message"] == "the database is unavailable; try again shortly"
    for leak in ("127.0.0.1", "port 1", "refused", "nowhere", "connection"):
        assert leak not in response.text, leak
    assert response.headers["retry-after"]


def test_forwarded_for_counts_only_from_trusted_proxies(api_settings: Settings) -> None:
    settings = api_settings.model_copy(update={
        "public_rate": "2/minute", "trusted_proxies": [ip_network("10.0.0.0/8")],
    })  # fmt: skip
    app = create_app(settings)

    def hits(peer: str, forwarded: list[str | None]) -> list[int]:
        with TestClient(app, client=(peer, 4000)) as test_client:
            return [
                test_client.get(
                    f"/s/{unique('missing')}", headers={"x-forwarded-for": f} if f else {}
                ).status_code
                for f in forwarded
            ]

    assert hits("203.0.113.9", ["1.1.1.1", "2.2.2.2", "3.3.3.3"]) == [404, 404, 429]
    assert hits("10.1.2.3", ["198.51.100.1, 10.9.9.9", "198.51.100.1", "198.51.100.1"]) == [
        404, 404, 429,
    ]  # fmt: skip
    assert hits("10.1.2.3", ["6.6.6.6, 198.51.100.2", None, None]) == [404, 404, 404]
    assert hits("10.1.2.3", [None]) == [429]  # the proxy itself has used its two
    assert hits("2001:db8:1:2::1", [None, None]) == [404, 404]
    assert hits("2001:db8:1:2:ffff::9", [None]) == [429]  # the same /64
    assert hits("2001:db8:1:3::1", [None]) == [404]
