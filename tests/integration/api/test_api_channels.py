"""Notification channels through the API: each kind created, bad settings refused at
configuration time with a clear 422, secrets write-only, signing secret rotation, pause
and resume, tenancy, and probe tags for routing.

The app allow-lists loopback (conftest.py); Slack and Teams URLs name fixed provider
hosts, so their creation test points those names at 127.0.0.1 through the guard's
resolver, as a local DNS would.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from api.state import of
from notify.ssrf import Guard
from tests.integration.api.channel_helpers import SECRET, send_test, signed_by, webhook
from tests.integration.api.conftest import Tenant, assert_error, create, new_tenant
from tests.integration.notify.providers import loopback
from tests.integration.notify.receiver import Receiver, serving

pytestmark = pytest.mark.db

SLACK = "https://hooks.slack.com/services/T0001/B0001/abcDEF123"
TEAMS = (
    "https://prod-11.westeurope.logic.azure.com/workflows/0a1b/triggers/manual/paths/invoke"
    "?api-version=2016-06-01&sig=s1gnature"
)
ROUTING_KEY = "R0UT1NGKEY0123456789abcdefABCDEF"
PUSHOVER = {"token": "a" * 30, "user_key": "u" * 30}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serving() as running:
        yield running


@pytest.fixture
def provider_names(client: TestClient) -> Iterator[None]:
    """The guard resolves the provider host names to 127.0.0.1 (allow-listed)."""
    state = of(client.app)
    kept = state.guard
    state.guard = Guard(state.settings.notify_allow_networks, resolver=loopback)
    try:
        yield
    finally:
        state.guard = kept


def _post(client: TestClient, tenant: Tenant, body: dict[str, Any]) -> Any:
    return client.post("/v1/channels", json={"name": "c", **body}, headers=tenant.headers)


def test_each_kind_is_created_and_its_secrets_never_come_back(
    client: TestClient, tenant: Tenant, receiver: Receiver, provider_names: None
) -> None:
    base = f"http://127.0.0.1:{receiver.port}"
    kinds: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
        "webhook": ({"url": receiver.url}, {"signing_secrets": [SECRET]}),
        "slack": ({}, {"webhook_url": SLACK}),
        "teams": ({}, {"workflow_url": TEAMS}),
        "pagerduty": ({"url": f"{base}/v2/enqueue"}, {"routing_key": ROUTING_KEY}),
        "pushover": ({"url": f"{base}/1/messages.json", "device": "phone"}, PUSHOVER),
        "email": (
            {"host": "127.0.0.1", "port": 2525, "security": "none", "username": "noc",
             "sender": "probe@acme.test", "recipients": ["noc@acme.test"]},
            {"password": "s3cret-pw"},
        ),
    }  # fmt: skip
    for kind, (config, secrets) in kinds.items():
        made = create(client, tenant, "/v1/channels", {
            "name": f"{kind} channel", "kind": kind, "config": config, "secrets": secrets,
            "rules": {"tags": ["trunks"], "on": ["unhealthy", "recovered"]},
        })  # fmt: skip
        assert made["kind"] == kind and made["paused"] is False
        assert made["secrets_set"] == sorted(secrets)
        assert made["signing_secret"] is None
        assert made["rules"]["tags"] == ["trunks"]
        assert made["rules"]["on"] == ["unhealthy", "recovered"]
    listing = client.get("/v1/channels", headers=tenant.headers)
    assert [c["kind"] for c in listing.json()] == sorted(kinds)
    assert {c["config"].get("device") for c in listing.json()} == {None, "phone"}
    texts = [listing.text] + [
        client.get(f"/v1/channels/{c['id']}", headers=tenant.headers).text for c in listing.json()
    ]
    for secret in [SECRET, SLACK, TEAMS, ROUTING_KEY, *PUSHOVER.values(), "s3cret-pw"]:
        assert all(secret not in text for text in texts), secret
        assert all(secret.split("?")[0] not in text for text in texts), secret


def test_webhook_signing_secret_is_made_and_shown_once(
    client: TestClient, tenant: Tenant, receiver: Receiver
) -> None:
    made = webhook(client, tenant, receiver.url)
    secret = made["signing_secret"]
    assert secret.startswith("whsec_") and made["secrets_set"] == ["signing_secrets"]
    again = client.get(f"/v1/channels/{made['id']}", headers=tenant.headers)
    assert 'signing_secret"' not in again.text and secret not in again.text
    assert secret not in client.get("/v1/channels", headers=tenant.headers).text
    assert send_test(client, tenant, made["id"])["delivered"] is True
    assert signed_by(receiver.wait_for(1, 5)[0], secret)


HOOK = {"url": "http://127.0.0.1:9/hook"}
BAD: list[tuple[str, dict[str, Any], list[str | int], str]] = [
    ("unknown kind", {"kind": "fax"}, ["body", "kind"], "known: email, pagerduty, pushover"),
    ("invalid url", {"kind": "webhook", "config": {"url": "not a url"}},
     ["body", "config", "url"], "may not contain spaces"),
    ("relative url", {"kind": "webhook", "config": {"url": "/hook"}},
     ["body", "config", "url"], "absolute http:// or https:// URL"),
    ("private address", {"kind": "webhook", "config": {"url": "https://10.0.0.1/hook"}},
     ["body", "config", "url"], "10.0.0.1, a private address"),
    ("metadata address",
     {"kind": "webhook", "config": {"url": "http://169.254.169.254/latest/meta-data"}},
     ["body", "config", "url"], "169.254.169.254, a cloud metadata address"),
    ("private smtp host", {"kind": "email", "config": {
        "host": "192.168.1.10", "sender": "a@acme.test", "recipients": ["b@acme.test"]}},
     ["body", "config"], "192.168.1.10, a private address"),
    ("slack shape", {"kind": "slack",
                     "secrets": {"webhook_url": "https://hooks.slack.com/workflows/x"}},
     ["body", "secrets", "webhook_url"], "not a Slack incoming webhook URL"),
    ("teams connector", {"kind": "teams", "secrets": {
        "workflow_url": "https://acme.webhook.office.com/webhookb2/x/IncomingWebhook/y/z"}},
     ["body", "secrets", "workflow_url"], "Office 365 connector webhooks are retired"),
    ("teams shape", {"kind": "teams", "secrets": {"workflow_url": "https://example.com/hook"}},
     ["body", "secrets", "workflow_url"], "not a Teams Workflows webhook URL"),
    ("oversized name", {"name": "n" * 201, "kind": "webhook", "config": HOOK},
     ["body", "name"], "at most 200 characters"),
    ("oversized header", {"kind": "webhook", "config": {"url": "https://hooks.acme.test/"},
        "secrets": {"headers": {"X-Team": "v" * 1025}}},
     ["body", "secrets", "headers", "X-Team"], "at most 1024 characters"),
    ("unknown config field", {"kind": "webhook", "config": {"url": "https://a.test/", "x": 1}},
     ["body", "config", "x"], "Extra inputs are not permitted"),
    ("short routing key", {"kind": "pagerduty", "secrets": {"routing_key": "abc"}},
     ["body", "secrets", "routing_key"], "32 letters and digits"),
    ("user without password", {"kind": "email", "config": {
        "host": "127.0.0.1", "username": "noc", "sender": "a@acme.test",
        "recipients": ["b@acme.test"]}},
     ["body", "secrets"], "an SMTP username needs a password"),
    ("bad trigger", {"kind": "webhook", "config": HOOK, "rules": {"on": ["exploded"]}},
     ["body", "rules", "on", 0], "'degraded', 'unhealthy', 'unknown' or 'recovered'"),
    ("bad flap rule", {"kind": "webhook", "config": HOOK, "rules": {"flap": {"changes": 1}}},
     ["body", "rules", "flap", "changes"], "greater than or equal to 2"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "loc", "says"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_settings_are_refused_at_configuration(
    client: TestClient, tenant: Tenant, body: dict[str, Any], loc: list[str | int], says: str
) -> None:
    error = assert_error(_post(client, tenant, body), 422, "invalid")
    assert [d["loc"] for d in error["details"]] == [loc], error
    assert says in error["message"], error["message"]
    assert client.get("/v1/channels", headers=tenant.headers).json() == []


def test_loopback_target_is_refused_without_the_allow_list(
    api_settings: Settings, receiver: Receiver
) -> None:
    strict = api_settings.model_copy(update={"notify_allow_networks": []})
    with TestClient(create_app(strict)) as strict_client:
        tenant = new_tenant(strict_client)
        response = _post(
            strict_client, tenant, {"kind": "webhook", "config": {"url": receiver.url}}
        )
    error = assert_error(response, 422, "invalid")
    assert error["details"][0]["loc"] == ["body", "config", "url"]
    assert error["message"] == (
        "body.config.url: notification target 127.0.0.1, a loopback address;"
        " allow it with CALLPROBE_NOTIFY_ALLOW_NETWORKS"
    )
    assert receiver.arrivals == 0


def test_channel_quota(api_settings: Settings, receiver: Receiver) -> None:
    small = api_settings.model_copy(update={"max_channels_per_project": 1})
    with TestClient(create_app(small)) as small_client:
        tenant = new_tenant(small_client)
        webhook(small_client, tenant, receiver.url)
        response = _post(small_client, tenant, {"kind": "webhook", "config": {"url": receiver.url}})
    error = assert_error(response, 409, "quota_exceeded")
    assert "1 channels, its quota is 1" in error["message"]


def test_changing_the_target_needs_the_secrets_again(
    client: TestClient, tenant: Tenant, receiver: Receiver
) -> None:
    made = webhook(client, tenant, receiver.url, secrets={"signing_secrets": [SECRET]})
    path, headers = f"/v1/channels/{made['id']}", tenant.headers
    moved = {"config": {"url": receiver.url + "/elsewhere"}}
    error = assert_error(client.patch(path, json=moved, headers=headers), 422, "invalid")
    assert error["message"] == "body.secrets: send the secrets again when you change the target"
    private = {"config": {"url": "https://10.1.2.3/"}, "secrets": {}}
    assert_error(client.patch(path, json=private, headers=headers), 422, "invalid")
    renamed = client.patch(
        path, json={"name": "renamed", "rules": {"tags": ["eu"]}}, headers=headers
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "renamed" and renamed.json()["rules"]["tags"] == ["eu"]
    assert renamed.json()["signing_secret"] is None
    resent = client.patch(path, json={**moved, "secrets": {}}, headers=headers).json()
    assert resent["config"]["url"] == receiver.url + "/elsewhere"
    assert resent["signing_secret"].startswith("whsec_") and resent["signing_secret"] != SECRET
    send_test(client, tenant, made["id"])
    (request,) = receiver.wait_for(1, 5)
    assert request.path == "/hook/elsewhere"
    assert signed_by(request, resent["signing_secret"])
    assert not signed_by(request, SECRET)


def test_rotation_signs_with_both_secrets_until_finished(
    client: TestClient, tenant: Tenant, receiver: Receiver
) -> None:
    made = webhook(client, tenant, receiver.url, secrets={"signing_secrets": [SECRET]})
    rotate = f"/v1/channels/{made['id']}/rotate-secret"
    new = client.post(rotate, headers=tenant.headers).json()["signing_secret"]
    assert new.startswith("whsec_") and new != SECRET
    assert new not in client.get(f"/v1/channels/{made['id']}", headers=tenant.headers).text
    send_test(client, tenant, made["id"])
    finished = client.post(rotate, params={"finish": "true"}, headers=tenant.headers)
    assert finished.status_code == 200 and finished.json()["signing_secret"] is None
    send_test(client, tenant, made["id"])
    during, after = receiver.wait_for(2, 5)
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert signed_by(during, new) and signed_by(during, SECRET)
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    assert signed_by(after, new) and not signed_by(after, SECRET)


def test_only_a_webhook_rotates(client: TestClient, tenant: Tenant, receiver: Receiver) -> None:
    pushover = create(client, tenant, "/v1/channels", {
        "name": "p", "kind": "pushover", "secrets": PUSHOVER,
        "config": {"url": f"http://127.0.0.1:{receiver.port}/1/messages.json"},
    })  # fmt: skip
    response = client.post(f"/v1/channels/{pushover['id']}/rotate-secret", headers=tenant.headers)
    assert "only a webhook channel" in assert_error(response, 422, "invalid")["message"]


def test_pause_and_resume(client: TestClient, tenant: Tenant, receiver: Receiver) -> None:
    made = webhook(client, tenant, receiver.url)
    paused = client.post(f"/v1/channels/{made['id']}/pause", headers=tenant.headers).json()
    assert paused["paused"] is True and paused["paused_at"] is not None
    listed = client.get("/v1/channels", headers=tenant.headers).json()
    assert [c["paused"] for c in listed] == [True]
    resumed = client.post(f"/v1/channels/{made['id']}/resume", headers=tenant.headers).json()
    assert resumed["paused"] is False and resumed["paused_at"] is None


def test_another_projects_channel_is_not_found(
    client: TestClient, tenant: Tenant, receiver: Receiver
) -> None:
    made = webhook(client, tenant, receiver.url)
    delivery = send_test(client, tenant, made["id"])["delivery_id"]
    other = new_tenant(client)
    path = f"/v1/channels/{made['id']}"
    for method, url in [
        ("GET", path), ("PATCH", path), ("DELETE", path), ("POST", f"{path}/test"),
        ("POST", f"{path}/pause"), ("POST", f"{path}/rotate-secret"),
        ("GET", f"{path}/deliveries"), ("GET", f"/v1/deliveries/{delivery}"),
        ("POST", f"/v1/deliveries/{delivery}/redeliver"),
    ]:  # fmt: skip
        body = {"name": "taken"} if method == "PATCH" else None
        response = client.request(method, url, json=body, headers=other.headers)
        assert_error(response, 404, "not_found")
    assert client.get("/v1/channels", headers=other.headers).json() == []
    assert len(receiver.wait_for(1, 5)) == 1
    mine = client.get(path, headers=tenant.headers).json()
    assert mine["name"] == "ops webhook" and mine["paused"] is False


def test_payload_schemas_are_public(client: TestClient) -> None:
    schemas = client.get("/v1/channels/schema").json()
    notice = schemas["probe_notice"]
    assert notice["title"] == "ProbeNotice"
    assert {"version", "type", "probe", "from_state", "to_state", "reasons"} <= set(
        notice["properties"]
    )
    crisp = schemas["crisp_health_changed"]
    assert crisp["properties"]["event"]["const"] == "status:health:changed"


def test_probe_tags_round_trip(client: TestClient, tenant: Tenant) -> None:
    probe = create(client, tenant, "/v1/probes", {
        "name": "trunk", "kind": "tcp", "target": "h:1", "tags": ["trunks", "customer-a", "trunks"],
    })  # fmt: skip
    assert probe["tags"] == ["trunks", "customer-a"]
    path = f"/v1/probes/{probe['id']}"
    patched = client.patch(path, json={"tags": ["eu.west_1"]}, headers=tenant.headers)
    assert patched.json()["tags"] == ["eu.west_1"]
    assert client.get(path, headers=tenant.headers).json()["tags"] == ["eu.west_1"]
    assert client.patch(path, json={"interval_s": 30}, headers=tenant.headers).json()["tags"] == [
        "eu.west_1"
    ]
    for bad in (["Bad Tag"], ["-x"], ["t" * 41], [f"t{n}" for n in range(21)]):
        assert_error(client.patch(path, json={"tags": bad}, headers=tenant.headers), 422, "invalid")
    assert client.get(path, headers=tenant.headers).json()["tags"] == ["eu.west_1"]
