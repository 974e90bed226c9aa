"""Tenant isolation: project A's write key gets 404 for each of project B's objects.

The walk covers every route with a path parameter that authenticates with an API
key, so routes added later are walked too: an unknown parameter name, a body model
without a sample, or a parameterised route that is neither walked nor exempt
fails the test loudly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from api.schemas.announcements import AnnouncementCreate
from api.schemas.channels import ChannelPatch
from api.schemas.incidents import NoteCreate
from api.schemas.pages import PageUpdate
from api.schemas.probes import ProbePatch
from api.schemas.thresholds import Bounds, ThresholdCreate
from api.security.auth import require_read, require_write
from api.state import of as state_of
from tests.integration.api.conftest import Tenant, assert_error, create, new_tenant, unique

pytestmark = pytest.mark.db

SAMPLE_BODIES: dict[type, dict[str, Any]] = {
    ProbePatch: {"interval_s": 60},
    Bounds: {"warning": 3.5},
    ThresholdCreate: {"metric": "rtt_ms", "warning": 100},
    PageUpdate: {"name": "taken over"},
    AnnouncementCreate: {"title": "taken over"},
    ChannelPatch: {"name": "taken over"},
    NoteCreate: {"body": "taken over"},
}
"""A valid body per request model of a parameterised route."""

PUBLIC = "a public status page view: read-only, no key, addressed by slug"
EXEMPT = {
    "/v1/push/{token}": "authenticated by the push token itself, not by a project key",
    **dict.fromkeys(
        (
            "/s/{slug}", "/s/{slug}/embed", "/s/{slug}/wall", "/s/{slug}/components/{public_id}",
            "/s/{slug}/api/v2/{document}.json", "/s/{slug}/api/v2/incidents/unresolved.json",
            "/s/{slug}/api/warning.json",
            "/s/{slug}/history.{feed}", "/s/{slug}/badge/{what}.svg",
            "/s/{slug}/components/{public_id}/badge/{what}.svg", "/s/{slug}/sla",
            "/s/{slug}/sla/{month}", "/s/{slug}/images/{slot}",
        ),
        PUBLIC,
    ),
    "/static/{name}": "the status pages' stylesheet and scripts, the same for everyone",
}  # fmt: skip
"""Parameterised routes that take no API key, and why."""


@dataclass(frozen=True)
class Objects:
    """One of every object of a project, as path-parameter values."""

    tenant: Tenant
    params: dict[str, str]


def populate(client: TestClient) -> Objects:
    """A new project with one of every object, made through the API."""
    tenant = new_tenant(client)
    location = create(client, tenant, "/v1/locations", {"name": unique("loc")})
    agent = create(client, tenant, "/v1/agents", {"name": "a", "location": location["name"]})
    probe = create(client, tenant, "/v1/probes", {
        "name": unique("p"), "kind": "sip_call", "target": "sip:echo@127.0.0.1:5080",
        "locations": [location["name"]],
    })  # fmt: skip
    create(
        client, tenant, f"/v1/probes/{probe['id']}/thresholds", {"metric": "mos", "warning": 3.5}
    )
    window = create(client, tenant, "/v1/maintenance", {
        "title": "w", "probe_id": probe["id"],
        "starts_at": "2030-01-01T00:00:00Z", "ends_at": "2030-01-01T01:00:00Z",
    })  # fmt: skip
    key = create(client, tenant, "/v1/keys", {"name": "b", "scope": "write"})
    page = create(client, tenant, "/v1/pages", {
        "name": "p", "slug": unique("page"), "custom_domain": f"{unique('d')}.example.com",
        "components": [{"probe_id": probe["id"], "name": "Trunk"}],
    })  # fmt: skip
    notice = create(client, tenant, f"/v1/pages/{page['id']}/announcements", {"title": "n"})
    channel = create(client, tenant, "/v1/channels", {
        "name": "c", "kind": "webhook", "config": {"url": "http://127.0.0.1:9/hook"},
    })  # fmt: skip
    sent = client.post(f"/v1/channels/{channel['id']}/test", headers=tenant.headers)
    incident = _incident(client, tenant, probe["id"])
    params = {
        "key_id": key["id"], "location_id": location["id"], "agent_id": agent["id"],
        "probe_id": probe["id"], "window_id": window["id"], "metric": "mos",
        "page_id": page["id"], "slot": "header_logo", "announcement_id": notice["id"],
        "channel_id": channel["id"], "delivery_id": sent.json()["delivery_id"],
        "incident_id": incident,
    }  # fmt: skip
    return Objects(tenant=tenant, params=params)


def _incident(client: TestClient, tenant: Tenant, probe_id: str) -> str:
    """An open incident of the probe (as judging would open one)."""
    url = state_of(client.app).settings.resolved_database_url
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "INSERT INTO incidents (project_id, probe_id, opened_at, worst_state, cause)"
            " VALUES (%s, %s, now(), 'degraded', 'MOS fell') RETURNING id",
            (tenant.project_id, probe_id),
        ).fetchone()
    assert row is not None
    return str(row[0])


def _calls(dependant: Dependant) -> set[Callable[..., Any] | None]:
    found = {dependant.call}
    for sub in dependant.dependencies:
        found |= _calls(sub)
    return found


def _key_routes(client: TestClient) -> list[tuple[str, APIRoute]]:
    """(path, route) of every parameterised route taking an API key; routers are flattened."""
    contexts = iter_route_contexts(client.app.routes)  # type: ignore[attr-defined]
    routes = [
        (ctx.path or "", ctx.original_route)
        for ctx in contexts
        if isinstance(ctx.original_route, APIRoute) and ctx.original_route.dependant.path_params
    ]
    assert routes, "no parameterised routes found: the route walk is broken"
    walked = [(p, r) for p, r in routes if _calls(r.dependant) & {require_read, require_write}]
    console = {p for p, _ in routes if p.startswith("/console")}  # test_console_isolation.py
    unexplained = {p for p, _ in routes} - {p for p, _ in walked} - set(EXEMPT) - console
    assert not unexplained, f"parameterised routes neither walked nor exempt: {unexplained}"
    return walked


def _path(path: str, route: APIRoute, params: dict[str, str]) -> str:
    names = [param.name for param in route.dependant.path_params]
    unknown = set(names) - set(params)
    assert not unknown, f"{path}: no object for path parameters {unknown}: add them"
    return path.format(**{name: params[name] for name in names})


def _body(route: APIRoute) -> dict[str, Any] | None:
    if route.body_field is None:
        return None
    model = route.body_field.field_info.annotation
    assert model in SAMPLE_BODIES, f"{route.path}: no sample body for {model}: add one"
    return SAMPLE_BODIES[model]


def test_other_projects_objects_are_not_found(client: TestClient) -> None:
    a, b = populate(client), populate(client)
    walked: set[tuple[str, str]] = set()
    for template, route in _key_routes(client):
        path = _path(template, route, b.params)
        for method in route.methods:
            response = client.request(method, path, json=_body(route), headers=a.tenant.headers)
            assert_error(response, 404, "not_found")
            walked.add((method, template))
    expected = {
        ("DELETE", "/v1/keys/{key_id}"), ("GET", "/v1/locations/{location_id}"),
        ("DELETE", "/v1/locations/{location_id}"), ("DELETE", "/v1/agents/{agent_id}"),
        ("GET", "/v1/probes/{probe_id}"), ("PATCH", "/v1/probes/{probe_id}"),
        ("DELETE", "/v1/probes/{probe_id}"), ("GET", "/v1/probes/{probe_id}/thresholds"),
        ("POST", "/v1/probes/{probe_id}/thresholds"),
        ("PUT", "/v1/probes/{probe_id}/thresholds/{metric}"),
        ("DELETE", "/v1/probes/{probe_id}/thresholds/{metric}"),
        ("DELETE", "/v1/maintenance/{window_id}"), ("GET", "/v1/probes/{probe_id}/results"),
        ("GET", "/v1/pages/{page_id}"), ("PATCH", "/v1/pages/{page_id}"),
        ("DELETE", "/v1/pages/{page_id}"), ("PUT", "/v1/pages/{page_id}/images/{slot}"),
        ("POST", "/v1/pages/{page_id}/announcements"),
        ("DELETE", "/v1/pages/{page_id}/announcements/{announcement_id}"),
        ("POST", "/v1/pages/{page_id}/domain/verify"),
        ("GET", "/v1/channels/{channel_id}"), ("PATCH", "/v1/channels/{channel_id}"),
        ("DELETE", "/v1/channels/{channel_id}"), ("POST", "/v1/channels/{channel_id}/test"),
        ("POST", "/v1/channels/{channel_id}/rotate-secret"),
        ("POST", "/v1/channels/{channel_id}/pause"), ("POST", "/v1/channels/{channel_id}/resume"),
        ("GET", "/v1/channels/{channel_id}/deliveries"), ("GET", "/v1/deliveries/{delivery_id}"),
        ("POST", "/v1/deliveries/{delivery_id}/redeliver"),
        ("POST", "/v1/incidents/{incident_id}/acknowledge"),
        ("GET", "/v1/incidents/{incident_id}/notes"), ("POST", "/v1/incidents/{incident_id}/notes"),
    }  # fmt: skip
    assert expected <= walked
    _assert_untouched(client, b)


def _assert_untouched(client: TestClient, b: Objects) -> None:
    headers, params = b.tenant.headers, b.params
    assert client.get(f"/v1/probes/{params['probe_id']}", headers=headers).status_code == 200
    assert client.get(f"/v1/locations/{params['location_id']}", headers=headers).status_code == 200
    rules = client.get(f"/v1/probes/{params['probe_id']}/thresholds", headers=headers).json()
    assert [(r["metric"], r["warning"]) for r in rules] == [("mos", 3.5)]
    keys = client.get("/v1/keys", headers=headers).json()
    assert all(k["revoked_at"] is None for k in keys)
    agents = client.get("/v1/agents", headers=headers).json()
    assert all(agent["revoked_at"] is None for agent in agents)
    assert len(client.get("/v1/maintenance", headers=headers).json()) == 1
    page = client.get(f"/v1/pages/{params['page_id']}", headers=headers).json()
    assert page["name"] == "p" and len(page["components"]) == 1
    notices = client.get(f"/v1/pages/{params['page_id']}/announcements", headers=headers).json()
    assert [n["title"] for n in notices] == ["n"]
    channel = client.get(f"/v1/channels/{params['channel_id']}", headers=headers).json()
    assert (channel["name"], channel["paused"]) == ("c", False)
    with psycopg.connect(state_of(client.app).settings.resolved_database_url) as conn:
        acked = conn.execute(
            "SELECT acknowledged_at FROM incidents WHERE id = %s", (params["incident_id"],)
        ).fetchone()
    assert acked == (None,)
    assert client.get(f"/v1/incidents/{params['incident_id']}/notes", headers=headers).json() == []
    delivery = client.get(f"/v1/deliveries/{params['delivery_id']}", headers=headers).json()
    assert (delivery["state"], len(delivery["attempts"])) == ("dead", 1)
