"""Bad input answers 4xx with the one error body, never a 500."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.api.conftest import Tenant, assert_error, create, unique

pytestmark = pytest.mark.db

SIP = "sip:ping@127.0.0.1"
MISSING = str(uuid.uuid4())

BAD_PROBES: list[tuple[dict[str, Any], str]] = [
    ({"kind": "smtp", "target": SIP}, "kind"),
    ({"kind": "sip_options", "target": "http://x"}, "target"),
    ({"kind": "sip_options", "target": ""}, "target"),
    ({"kind": "http", "target": "ftp://example.com"}, "target"),
    ({"kind": "http", "target": "http://[::1"}, "target"),
    ({"kind": "tcp", "target": "example.com"}, "target"),
    ({"kind": "tcp", "target": "example.com:99999"}, "target"),
    ({"kind": "icmp", "target": "bad host!"}, "target"),
    ({"kind": "push", "target": "example.com"}, "target"),
    ({"kind": "sip_options", "target": SIP, "replicas": ["nope"]}, "replicas"),
    ({"kind": "sip_options", "target": SIP, "interval_s": 4}, "interval_s"),
    ({"kind": "sip_options", "target": SIP, "interval_s": 86401}, "interval_s"),
    ({"kind": "sip_options", "target": SIP, "timeout_s": 0}, "timeout_s"),
    ({"kind": "sip_options", "target": SIP, "locations": ["nowhere"]}, "locations"),
    ({"kind": "sip_options", "target": SIP, "options": {"codec": "PCMU"}}, "options"),
    ({"kind": "sip_register", "target": SIP}, "options"),
    ({"kind": "sip_call", "target": SIP, "options": {"registrar": "a\x00b"}}, "options"),
    ({"kind": "sip_options", "target": SIP, "policy": {"quorum": 0}}, "policy"),
    ({"kind": "sip_options", "target": SIP, "policy": {"bogus": 1}}, "policy"),
    ({"kind": "sip_options", "target": SIP, "secret": ""}, "secret"),
    ({"kind": "sip_options", "target": SIP, "extra": 1}, "extra"),
    ({"kind": "sip_options", "target": SIP, "name": "a\x00b"}, "name"),
]


@pytest.mark.parametrize(("fields", "field"), BAD_PROBES)
def test_bad_probe_is_422(
    client: TestClient, tenant: Tenant, fields: dict[str, Any], field: str
) -> None:
    body = {"name": unique("probe"), **fields}
    error = assert_error(
        client.post("/v1/probes", json=body, headers=tenant.headers), 422, "invalid"
    )
    assert any(field in map(str, detail["loc"]) for detail in error["details"]), error


def test_bad_patch_is_422(client: TestClient, tenant: Tenant) -> None:
    probe = create(
        client, tenant, "/v1/probes", {"name": unique("p"), "kind": "tcp", "target": "h:1"}
    )
    path = f"/v1/probes/{probe['id']}"
    for body in ({"kind": "http"}, {"name": None}, {"target": "h"}, {"locations": ["nowhere"]}):
        assert_error(client.patch(path, json=body, headers=tenant.headers), 422, "invalid")


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("post", "/v1/locations", {"name": "Bad Name"}, 422, "invalid"),
        ("post", "/v1/locations", {}, 422, "invalid"),
        ("post", "/v1/keys", {"name": "k", "scope": "admin"}, 422, "invalid"),
        ("post", "/v1/agents", {"name": "a", "location": "nowhere"}, 422, "invalid"),
        ("get", "/v1/locations/not-a-uuid", None, 422, "invalid"),
        ("get", f"/v1/locations/{MISSING}", None, 404, "not_found"),
        ("delete", f"/v1/locations/{MISSING}", None, 404, "not_found"),
        ("delete", f"/v1/keys/{MISSING}", None, 404, "not_found"),
        ("delete", f"/v1/agents/{MISSING}", None, 404, "not_found"),
        ("get", f"/v1/probes/{MISSING}", None, 404, "not_found"),
        ("get", f"/v1/probes/{MISSING}/thresholds", None, 404, "not_found"),
        ("get", f"/v1/probes/{MISSING}/results", None, 404, "not_found"),
        ("delete", f"/v1/maintenance/{MISSING}", None, 404, "not_found"),
        ("get", "/v1/nowhere", None, 404, "not_found"),
        ("put", "/v1/probes", {}, 405, "method_not_allowed"),
        ("post", "/v1/maintenance", {"title": "t", "starts_at": "2030-01-02T00:00:00Z",
                                     "ends_at": "2030-01-01T00:00:00Z"}, 422, "invalid"),
        ("post", "/v1/maintenance", {"title": "t", "starts_at": "2030-01-01T00:00:00",
                                     "ends_at": "2030-01-02T00:00:00"}, 422, "invalid"),
        ("post", "/v1/maintenance", {"title": "t", "probe_id": MISSING,
                                     "starts_at": "2030-01-01T00:00:00Z",
                                     "ends_at": "2030-01-02T00:00:00Z"}, 422, "invalid"),
    ],
)  # fmt: skip
def test_bad_request_shapes(
    client: TestClient, tenant: Tenant, method: str, path: str, body: Any, status: int, code: str
) -> None:
    response = client.request(method, path, json=body, headers=tenant.headers)
    assert_error(response, status, code)


def test_duplicate_location_is_409(client: TestClient, tenant: Tenant) -> None:
    name = unique("loc")
    create(client, tenant, "/v1/locations", {"name": name})
    response = client.post("/v1/locations", json={"name": name}, headers=tenant.headers)
    assert_error(response, 409, "conflict")


def test_bad_thresholds(client: TestClient, tenant: Tenant) -> None:
    probe = create(
        client, tenant, "/v1/probes", {"name": unique("p"), "kind": "tcp", "target": "h:1"}
    )
    path = f"/v1/probes/{probe['id']}/thresholds"
    for body in ({"metric": "nope", "warning": 1}, {"metric": "mos"},
                 {"metric": "mos", "warning": 3.0, "critical": 3.5},
                 {"metric": "rtt_ms", "warning": 300, "critical": 100}):  # fmt: skip
        assert_error(client.post(path, json=body, headers=tenant.headers), 422, "invalid")
    create(client, tenant, path, {"metric": "mos", "warning": 3.5})
    again = client.post(path, json={"metric": "mos", "warning": 3.6}, headers=tenant.headers)
    assert_error(again, 409, "conflict")
    bad_put = client.put(f"{path}/unknown", json={"warning": 1}, headers=tenant.headers)
    assert_error(bad_put, 422, "invalid")


@pytest.mark.parametrize(
    "params",
    [
        {"bucket": "5x"}, {"bucket": "0m"}, {"format": "xml"}, {"limit": 0}, {"limit": 10001},
        {"start": "2030-01-02T00:00:00Z", "end": "2030-01-01T00:00:00Z"},
        {"start": "2000-01-01T00:00:00Z", "end": "2030-01-01T00:00:00Z"},
        {"end": "0001-01-01T00:00:00Z"}, {"start": "2030-01-01T00:00:00"},
        {"bucket": "1s", "start": "2029-01-01T00:00:00Z", "end": "2030-01-01T00:00:00Z"},
    ],
)  # fmt: skip
def test_bad_result_queries(client: TestClient, tenant: Tenant, params: dict[str, Any]) -> None:
    probe = create(
        client, tenant, "/v1/probes", {"name": unique("p"), "kind": "tcp", "target": "h:1"}
    )
    response = client.get(
        f"/v1/probes/{probe['id']}/results", params=params, headers=tenant.headers
    )
    assert_error(response, 422, "invalid")
