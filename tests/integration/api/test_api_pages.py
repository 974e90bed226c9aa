"""Status pages through the API: management, the public views and what they must not do.

Health history is written straight into the tables the evaluator writes, so the
page shows states the test chose.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from defusedxml import ElementTree
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from tests.health_history import Move, store_history
from tests.integration.api.conftest import Tenant, assert_error, create, unique

pytestmark = pytest.mark.db

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _probe(client: TestClient, tenant: Tenant, name: str = "p") -> str:
    probe = create(client, tenant, "/v1/probes", {
        "name": unique(name), "kind": "sip_call", "target": "sip:secret-target@10.9.8.7:5060",
    })  # fmt: skip
    return str(probe["id"])


def _page(client: TestClient, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    body = {"name": "Acme Voice", "slug": unique("acme"), **fields}
    return create(client, tenant, "/v1/pages", body)


def _history(settings: Settings, tenant: Tenant, probe: str, moves: list[Move]) -> None:
    assert settings.database_url
    store_history(settings.database_url, tenant.project_id, probe, moves)


def test_page_shows_states_bars_incidents_and_hides_targets(
    client: TestClient, tenant: Tenant, api_settings: Settings
) -> None:
    trunk, backup = _probe(client, tenant, "trunk"), _probe(client, tenant, "backup")
    page = _page(client, tenant, components=[
        {"probe_id": trunk, "name": "Primary SIP Trunk", "group": "Voice"},
        {"probe_id": backup, "name": "Backup Trunk", "group": "Voice"},
    ])  # fmt: skip
    now = datetime.now(UTC)
    mos = {
        "state": "unhealthy", "rule": "critical", "metric": "mos", "value": 3.1, "bound": 3.5,
        "location": "secret-location", "text": "mos 3.10 below critical 3.50 at ams",
    }  # fmt: skip
    _history(api_settings, tenant, trunk, [
        (now - timedelta(days=3), "healthy", []),
        (now - timedelta(days=2), "unhealthy", [mos]),
        (now - timedelta(days=2) + timedelta(minutes=90), "healthy", []),
    ])  # fmt: skip
    _history(api_settings, tenant, backup, [(now - timedelta(days=1), "degraded", [])])

    response = client.get(f"/s/{page['slug']}")
    assert response.status_code == 200
    html = response.text
    assert "Partial Degradation" in html
    assert "MOS fell to 3.1 on Primary SIP Trunk" in html
    assert "resolved after 1 h 30 min" in html
    assert html.count('class="d-') == 2 * 90
    assert "secret-target" not in html and "10.9.8.7" not in html
    assert "secret-location" not in html and trunk not in html
    assert response.headers["content-security-policy"].endswith("frame-ancestors 'none'")

    summary = client.get(f"/s/{page['slug']}/api/v2/summary.json").json()
    assert summary["status"] == {"indicator": "minor", "description": "Partial Degradation"}
    by_name = {c["name"]: c for c in summary["components"]}
    assert by_name["Primary SIP Trunk"]["status"] == "operational"
    assert by_name["Backup Trunk"]["status"] == "degraded_performance"
    assert by_name["Voice"]["group"] is True
    incidents = client.get(f"/s/{page['slug']}/api/v2/incidents.json").json()["incidents"]
    assert [i["name"] for i in incidents] == [
        "Backup Trunk was degraded",
        "MOS fell to 3.1 on Primary SIP Trunk",
    ]
    assert incidents[1]["status"] == "resolved" and incidents[1]["impact"] == "major"


def test_user_text_is_escaped_everywhere(client: TestClient, tenant: Tenant) -> None:
    probe = _probe(client, tenant)
    page = _page(client, tenant, name=HOSTILE, description=HOSTILE, components=[
        {"probe_id": probe, "name": HOSTILE, "description": HOSTILE, "group": HOSTILE},
    ])  # fmt: skip
    create(client, tenant, f"/v1/pages/{page['id']}/announcements", {
        "title": HOSTILE, "body": HOSTILE,
    })  # fmt: skip
    for path in ("", "/embed", "/wall", f"/components/{page['components'][0]['public_id']}"):
        html = client.get(f"/s/{page['slug']}{path}").text
        assert "<script>alert" not in html and "<img src=x" not in html, path
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html, path
    feed = client.get(f"/s/{page['slug']}/history.atom")
    ElementTree.fromstring(feed.content)
    badge = client.get(f"/s/{page['slug']}/badge/status.svg")
    assert badge.headers["content-type"] == "image/svg+xml"
    assert "<script>" not in badge.text
    ElementTree.fromstring(badge.content)


def test_deleted_page_is_gone_at_once_and_probe_stays(client: TestClient, tenant: Tenant) -> None:
    probe = _probe(client, tenant)
    page = _page(client, tenant, components=[{"probe_id": probe, "name": "Trunk"}])
    assert client.get(f"/s/{page['slug']}").status_code == 200  # now cached
    client.patch(f"/v1/pages/{page['id']}", json={"components": []}, headers=tenant.headers)
    assert client.get(f"/v1/probes/{probe}", headers=tenant.headers).status_code == 200
    assert "Trunk" not in client.get(f"/s/{page['slug']}").text
    response = client.delete(f"/v1/pages/{page['id']}", headers=tenant.headers)
    assert response.status_code == 204
    assert_error(client.get(f"/s/{page['slug']}"), 404, "not_found")
    assert_error(client.get(f"/s/{page['slug']}/api/v2/summary.json"), 404, "not_found")
    assert client.get(f"/v1/probes/{probe}", headers=tenant.headers).status_code == 200


def test_unknown_slugs_components_and_hosts_are_404(client: TestClient, tenant: Tenant) -> None:
    page = _page(client, tenant)
    assert_error(client.get("/s/no-such-page"), 404, "not_found")
    assert_error(client.get(f"/s/{page['slug']}/components/000000000000"), 404, "not_found")
    assert_error(client.get("/", headers={"host": "unknown.example.com"}), 404, "not_found")
    assert_error(client.get(f"/s/{page['slug']}/sla/2026-13.json"), 422, "invalid")


def test_management_refuses_bad_input(client: TestClient, tenant: Tenant) -> None:
    other = create(client, tenant, "/v1/pages", {"name": "x", "slug": unique("taken")})
    cases: list[tuple[dict[str, Any], str]] = [
        ({"name": "x", "slug": "Bad Slug"}, "slug"),
        ({"name": "x", "slug": unique("s"), "time_zone": "Mars/Olympus"}, "time_zone"),
        ({"name": "x", "slug": unique("s"), "primary_color": "red;}"}, "primary_color"),
        ({"name": "x", "slug": unique("s"), "frame_ancestors": ["https://a.com; script-src *"]},
         "frame_ancestors"),
        ({"name": "x", "slug": unique("s"), "custom_domain": "not a domain"}, "custom_domain"),
        ({"name": "x", "slug": unique("s"), "refresh_s": 1}, "refresh_s"),
        ({"name": "x", "slug": unique("s"),
          "components": [{"probe_id": "6f1c0d4e-0000-4000-8000-000000000000", "name": "c"}]},
         "components"),
    ]  # fmt: skip
    for body, field in cases:
        response = client.post("/v1/pages", json=body, headers=tenant.headers)
        error = assert_error(response, 422, "invalid")
        assert any(field in d["loc"] for d in error["details"]), (field, error)
    clash = client.post("/v1/pages", json={"name": "x", "slug": other["slug"]},
                        headers=tenant.headers)  # fmt: skip
    assert_error(clash, 409, "conflict")
    assert_error(client.post("/v1/pages", json={"name": "x", "slug": unique("s")}), 401,
                 "unauthorized")  # fmt: skip


def test_embed_framing_follows_the_page_and_admin_never_frames(
    client: TestClient, tenant: Tenant
) -> None:
    page = _page(client, tenant, frame_ancestors=["https://support.example.com"])
    assert page["embed_note"] is None
    assert f'src="http://127.0.0.1:8080/s/{page["slug"]}/embed"' in page["embed_snippet"]
    embed = client.get(f"/s/{page['slug']}/embed")
    policy = embed.headers["content-security-policy"]
    assert policy.endswith("frame-ancestors https://support.example.com")
    assert "x-frame-options" not in embed.headers
    admin = client.get("/v1/pages", headers=tenant.headers)
    assert admin.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in admin.headers["content-security-policy"]
    assert _page(client, tenant)["embed_note"]


def test_logos_are_validated_and_served_sandboxed(client: TestClient, tenant: Tenant) -> None:
    page = _page(client, tenant)
    url = f"/v1/pages/{page['id']}/images/header_logo"
    hostile = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    for body in (hostile, b"GIF89a....", b"", b"x" * (600 * 1024)):
        response = client.put(url, content=body, headers=tenant.headers)
        assert_error(response, 422, "invalid")
    logo = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#0b5cad"/></svg>'  # noqa: E501
    response = client.put(url, content=logo, headers=tenant.headers)
    assert response.status_code == 200 and response.json()["images"] == ["header_logo"]
    served = client.get(f"/s/{page['slug']}/images/header_logo")
    assert served.headers["content-type"] == "image/svg+xml"
    assert "sandbox" in served.headers["content-security-policy"]
    assert b"<rect" in served.content
    assert 'src="/s/' in client.get(f"/s/{page['slug']}").text
    assert_error(client.put(f"/v1/pages/{page['id']}/images/favicon", content=logo,
                            headers=tenant.headers), 422, "invalid")  # fmt: skip


def test_sla_report_counts_time_weighted_uptime(
    client: TestClient, tenant: Tenant, api_settings: Settings
) -> None:
    probe = _probe(client, tenant)
    page = _page(client, tenant, components=[{"probe_id": probe, "name": "Trunk"}])
    start = datetime(2026, 9, 1, tzinfo=UTC)  # a 30-day month: 720 hours
    _history(api_settings, tenant, probe, [
        (start - timedelta(days=1), "healthy", []),
        (start + timedelta(days=10), "unhealthy", []),
        (start + timedelta(days=10, hours=1), "healthy", []),
    ])  # fmt: skip
    report = client.get(f"/s/{page['slug']}/sla/2026-09.json").json()
    assert report["components"] == [{
        "component": "Trunk", "uptime_pct": 99.861, "downtime_min": 60.0, "no_data_min": 0.0,
        "maintenance_min": 0.0, "incidents": 1,
    }]  # fmt: skip
    rows = list(csv.reader(io.StringIO(client.get(f"/s/{page['slug']}/sla/2026-09.csv").text)))
    assert rows[1] == ["2026-09", "Trunk", "99.861", "60.0", "0.0", "0.0", "1"]
    html = client.get(f"/s/{page['slug']}/sla/2026-09").text
    assert "99.861 %" in html
    create(client, tenant, "/v1/maintenance", {
        "title": "upgrade", "page_id": page["id"],
        "starts_at": "2026-09-11T00:00:00Z", "ends_at": "2026-09-11T01:00:00Z",
    })  # fmt: skip
    report = client.get(f"/s/{page['slug']}/sla/2026-09.json").json()
    assert report["components"][0]["uptime_pct"] == 100.0
    assert report["components"][0]["maintenance_min"] == 60.0


def test_statuspage_documents_have_the_expected_shape(client: TestClient, tenant: Tenant) -> None:
    probe = _probe(client, tenant)
    page = _page(client, tenant, components=[{"probe_id": probe, "name": "Trunk"}])
    create(client, tenant, "/v1/maintenance", {
        "title": "carrier swap", "probe_id": probe,
        "starts_at": "2030-01-01T00:00:00Z", "ends_at": "2030-01-01T02:00:00Z",
    })  # fmt: skip
    base = f"/s/{page['slug']}/api/v2"
    keys = {
        "summary": {"page", "status", "components", "incidents", "scheduled_maintenances"},
        "status": {"page", "status"},
        "components": {"page", "components"},
        "incidents": {"page", "incidents"},
        "scheduled-maintenances": {"page", "scheduled_maintenances"},
    }
    for name, expected in keys.items():
        response = client.get(f"{base}/{name}.json")
        assert response.headers["access-control-allow-origin"] == "*"
        assert set(response.json()) == expected, name
    planned = client.get(f"{base}/scheduled-maintenances.json").json()["scheduled_maintenances"]
    assert [(m["name"], m["status"]) for m in planned] == [("carrier swap", "scheduled")]
    assert client.get(f"{base}/summary.json").json()["status"]["description"] == "Status Pending"
    assert json.loads(client.get(f"{base}/incidents/unresolved.json").text)["incidents"] == []


def test_repeat_requests_are_answered_from_memory_with_the_same_headers(
    client: TestClient, tenant: Tenant
) -> None:
    page = _page(client, tenant, components=[{"probe_id": _probe(client, tenant), "name": "T"}])
    first = client.get(f"/s/{page['slug']}")
    second = client.get(f"/s/{page['slug']}")  # from PublicFastPath
    assert second.content == first.content
    for name in ("etag", "content-security-policy", "content-type", "cache-control", "vary"):
        assert second.headers[name] == first.headers[name], name
    assert second.headers["content-encoding"] == "gzip"
    again = client.get(f"/s/{page['slug']}", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    plain = client.get(f"/s/{page['slug']}", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == first.content


def test_uncached_public_requests_are_limited_per_client(
    api_settings: Settings, tenant: Tenant, client: TestClient
) -> None:
    page = _page(client, tenant)
    limited = api_settings.model_copy(update={"public_rate": "3/minute"})
    with TestClient(create_app(limited)) as strict:
        assert strict.get(f"/s/{page['slug']}").status_code == 200
        assert strict.get(f"/s/{page['slug']}").status_code == 200  # cached: not counted
        for path in ("/s/no-such-page", "/s/other-missing"):
            assert_error(strict.get(path), 404, "not_found")
        refused = strict.get("/s/a-third-missing-page")
        assert_error(refused, 429, "too_many_requests")
        assert int(refused.headers["retry-after"]) >= 1
