"""The delivery log and its controls: a test send delivered to a real loopback receiver
and logged with its attempt, a dead one redelivered by the app's own dispatcher with the
same idempotency key, SMTP credentials checked by a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from fastapi.testclient import TestClient

from api.services.sample_notices import EXAMPLE_CAUSE
from tests.integration.api.channel_helpers import send_test, webhook
from tests.integration.api.conftest import ADMIN_TOKEN, Tenant, assert_error, create, new_tenant
from tests.integration.notify.receiver import Answer, Receiver, Request, serving

pytestmark = pytest.mark.db

WAIT_S = 10.0
"""How long a redelivery may take (well under a second)."""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serving() as running:
        yield running


def _log(client: TestClient, tenant: Tenant, channel_id: str, **params: Any) -> list[Any]:
    path = f"/v1/channels/{channel_id}/deliveries"
    response = client.get(path, params=params, headers=tenant.headers)
    assert response.status_code == 200, response.text
    log: list[Any] = response.json()
    return log


def _delivery(client: TestClient, tenant: Tenant, delivery_id: str) -> dict[str, Any]:
    found: dict[str, Any] = client.get(
        f"/v1/deliveries/{delivery_id}", headers=tenant.headers
    ).json()
    return found


def test_a_test_send_is_delivered_and_logged(
    client: TestClient, tenant: Tenant, receiver: Receiver
) -> None:
    made = webhook(client, tenant, receiver.url)
    sent = send_test(client, tenant, made["id"])
    assert sent["delivered"] is True and sent["state"] == "delivered"
    assert sent["status_code"] == 200 and sent["error"] is None
    assert 0 < sent["latency_ms"] < 5000
    (request,) = receiver.wait_for(1, 5)
    key = "msg_" + sent["delivery_id"].replace("-", "")
    assert request.headers["idempotency-key"] == key == request.headers["webhook-id"]
    notice = request.json()
    assert notice["version"] == 1 and notice["type"] == "test"
    assert notice["project"]["id"] == tenant.project_id
    assert (notice["from_state"], notice["to_state"], notice["cause"]) == (
        "healthy", "unhealthy", EXAMPLE_CAUSE,
    )  # fmt: skip
    assert notice["reasons"][0] | {"text": None} == {
        "state": "unhealthy", "rule": "critical", "metric": "mos", "value": 3.1,
        "bound": 3.5, "location": "ams", "text": None,
    }  # fmt: skip
    (logged,) = _log(client, tenant, made["id"])
    assert (logged["id"], logged["kind"], logged["state"]) == (
        sent["delivery_id"],
        "test",
        "delivered",
    )
    assert "payload" not in logged
    (attempt,) = logged["attempts"]
    assert (attempt["attempt"], attempt["status_code"], attempt["outcome"]) == (1, 200, "delivered")
    assert attempt["latency_ms"] == pytest.approx(sent["latency_ms"])
    detail = _delivery(client, tenant, sent["delivery_id"])
    assert detail["payload"] == notice and detail["attempts"] == [attempt]


def test_a_crisp_webhook_is_tested_with_a_crisp_event(
    client: TestClient, tenant: Tenant, receiver: Receiver
) -> None:
    made = webhook(client, tenant, receiver.url, config={"url": receiver.url, "format": "crisp"})
    assert send_test(client, tenant, made["id"])["delivered"] is True
    event = receiver.wait_for(1, 5)[0].json()
    assert event["event"] == "status:health:changed"
    assert event["data"]["health"] == "sick"
    assert event["data"]["nodes"] == [{"label": "Example SIP trunk", "replica": "ams"}]
    assert abs(event["timestamp"] - time.time() * 1000) < 60_000


def test_a_dead_delivery_is_redelivered_with_the_same_key(
    dispatching_client: TestClient, receiver: Receiver
) -> None:
    client = dispatching_client
    tenant = new_tenant(client)
    down = True
    receiver.script = lambda request: Answer(status=503 if down else 200)
    made = webhook(client, tenant, receiver.url)
    sent = send_test(client, tenant, made["id"])
    assert (sent["delivered"], sent["state"], sent["status_code"]) == (False, "dead", 503)
    assert sent["error"] == "HTTP 503: ok"
    (dead,) = _log(client, tenant, made["id"], state="dead")
    assert dead["last_error"] == "HTTP 503: ok"
    assert _log(client, tenant, made["id"], state="delivered") == []
    client.post(f"/v1/channels/{made['id']}/pause", headers=tenant.headers)
    redeliver = f"/v1/deliveries/{sent['delivery_id']}/redeliver"
    queued = client.post(redeliver, headers=tenant.headers)
    assert queued.status_code == 202 and queued.json()["state"] == "pending"
    assert (
        "still on its way"
        in assert_error(client.post(redeliver, headers=tenant.headers), 409, "conflict")["message"]
    )
    down = False
    client.post(f"/v1/channels/{made['id']}/resume", headers=tenant.headers)
    first, second = _all(receiver, 2)
    assert first.status == 503 and second.status == 200
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]
    assert first.body == second.body
    detail = _wait_state(client, tenant, sent["delivery_id"], "delivered")
    assert [(a["outcome"], a["status_code"]) for a in detail["attempts"]] == [
        ("dead", 503), ("delivered", 200),
    ]  # fmt: skip


def test_the_log_pages_back_by_seq(client: TestClient, tenant: Tenant, receiver: Receiver) -> None:
    made = webhook(client, tenant, receiver.url)
    ids = [send_test(client, tenant, made["id"])["delivery_id"] for _ in range(3)]
    newest = _log(client, tenant, made["id"], limit=2)
    assert [d["id"] for d in newest] == ids[:0:-1]
    older = _log(client, tenant, made["id"], limit=2, before=newest[-1]["seq"])
    assert [d["id"] for d in older] == ids[:1]
    error = assert_error(
        client.get(f"/v1/channels/{made['id']}/deliveries?state=lost", headers=tenant.headers),
        422, "invalid",
    )  # fmt: skip
    assert error["details"][0]["loc"] == ["query", "state"]


class Inbox:
    """An SMTP server's mail handler: the password ``right`` is accepted for any user."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 OK"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        good = isinstance(data, LoginPassword) and data.password == b"right"
        return AuthResult(success=good, handled=False)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    server = Controller(
        inbox, hostname="127.0.0.1", port=port, authenticator=inbox.authenticate,
        auth_required=True, auth_require_tls=False,
    )  # fmt: skip
    server.start()
    try:
        yield inbox, port
    finally:
        server.stop()


@pytest.mark.parametrize("password", ["wrong", "right"])
def test_smtp_credentials_are_checked_by_the_test_send(
    client: TestClient, tenant: Tenant, smtp: tuple[Inbox, int], password: str
) -> None:
    inbox, port = smtp
    made = create(client, tenant, "/v1/channels", {
        "name": "noc mail", "kind": "email", "secrets": {"password": password},
        "config": {"host": "127.0.0.1", "port": port, "security": "none", "username": "noc",
                   "sender": "probe@acme.test", "recipients": ["noc@acme.test"]},
    })  # fmt: skip
    sent = send_test(client, tenant, made["id"])
    if password == "wrong":
        assert (sent["delivered"], sent["state"], sent["status_code"]) == (False, "dead", 535)
        assert sent["error"].startswith("SMTP server refused the credentials: 535")
        assert inbox.envelopes == []
    else:
        assert (sent["delivered"], sent["status_code"], sent["error"]) == (True, 250, None)
        (envelope,) = inbox.envelopes
        assert envelope.rcpt_tos == ["noc@acme.test"]
        assert b"Example SIP trunk" in (envelope.original_content or b"")


def _all(receiver: Receiver, count: int) -> list[Request]:
    """Every request answered so far, once ``count`` have been (accepted or not)."""
    deadline = time.monotonic() + WAIT_S
    while len(receiver.requests) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return list(receiver.requests)


def _wait_state(client: TestClient, tenant: Tenant, delivery_id: str, state: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    while (found := _delivery(client, tenant, delivery_id))["state"] != state:
        assert time.monotonic() < deadline, found
        time.sleep(0.05)
    return found


def _counter(client: TestClient, family: str) -> float:
    """A delivery counter's value for webhooks on the service metrics (admin token)."""
    scraped = client.get("/metrics", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert scraped.status_code == 200
    line = f'{family}{{channel_kind="webhook"}} '
    values = [
        float(row.removeprefix(line)) for row in scraped.text.splitlines() if row.startswith(line)
    ]
    return values[0] if values else 0.0


def test_deliveries_are_counted_for_prometheus(
    client: TestClient, tenant: Tenant, receiver: Receiver
) -> None:
    made = webhook(client, tenant, receiver.url)
    families = ("sent_total", "dead_lettered_total", "delivery_seconds_count")
    before = {f: _counter(client, f"callprobe_notify_{f}") for f in families}
    assert send_test(client, tenant, made["id"])["delivered"] is True
    receiver.script = lambda request: Answer(status=410)
    assert send_test(client, tenant, made["id"])["state"] == "dead"
    after = {f: _counter(client, f"callprobe_notify_{f}") for f in families}
    assert {f: after[f] - before[f] for f in families} == dict.fromkeys(families, 1.0)
