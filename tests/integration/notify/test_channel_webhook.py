"""The generic webhook against a real receiver: the body is the notice, and its Standard
Webhooks signature checks out with a verifier written here from the specification (not
the signing library), through a secret rotation; replays and edits are rejected."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

from notify.channels.base import Sent
from notify.channels.webhook import new_signing_secret
from notify.payloads import CrispHealthChanged, ProbeNotice
from tests.integration.notify.providers import (
    KEY,
    Receiver,
    Request,
    Send,
    common_headers,
    provider,
)
from tests.unit.notify.notices import crisp, down

TOLERANCE_S = 300


endpoint = provider(204, b"")


def verify(secret: str, request: Request, *, now: float | None = None) -> bool:
    """The Standard Webhooks check, written from the specification: HMAC-SHA256 keyed by
    the base64 secret after ``whsec_``, over ``id.timestamp.body``, matching any ``v1,``
    signature; timestamps more than five minutes away from now are replays."""
    msg_id = request.headers["webhook-id"]
    stamp = request.headers["webhook-timestamp"]
    if abs((time.time() if now is None else now) - int(stamp)) > TOLERANCE_S:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{stamp}.".encode() + request.body, hashlib.sha256)
    expected = base64.b64encode(digest.digest()).decode()
    offered = request.headers["webhook-signature"].split(" ")
    return any(
        version == "v1" and hmac.compare_digest(signature, expected)
        for version, _, signature in (item.partition(",") for item in offered)
    )


def webhook_config(receiver: Receiver, **fields: Any) -> dict[str, Any]:
    return {"url": f"https://hooks.acme.test:{receiver.port}/in/callprobe", **fields}


def test_webhook_body_is_the_notice_signed_with_its_secret(send: Send, endpoint: Receiver) -> None:
    secret = new_signing_secret()
    config = webhook_config(endpoint)
    sealed = {"signing_secrets": [secret], "headers": {"Authorization": "Bearer acme-hook"}}
    sent = send("webhook", down(), config, sealed)
    assert sent == Sent(ok=True, status=204)
    [request] = endpoint.requests
    common_headers(request)
    assert request.path == "/in/callprobe"
    assert request.headers["webhook-id"] == KEY
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 5
    assert request.headers["webhook-signature"].startswith("v1,")
    assert " " not in request.headers["webhook-signature"]
    assert request.headers["authorization"] == "Bearer acme-hook"
    assert ProbeNotice.model_validate_json(request.body) == down()
    body = request.json()
    assert (body["version"], body["type"], body["to_state"]) == (
        1,
        "probe.health_changed",
        "unhealthy",
    )
    assert body["reasons"][0]["text"] == "mos 3.10 below critical 3.50 at ams"
    assert body["incident"]["dedup_key"] == "callprobe-incident-5b0f7a0e"
    assert body["pages"] == [{"name": "Acme status", "url": "https://status.acme.test/"}]
    assert verify(secret, request)
    assert not verify(new_signing_secret(), request)


def test_during_rotation_either_secret_verifies(send: Send, endpoint: Receiver) -> None:
    new, old = new_signing_secret(), new_signing_secret()
    assert send("webhook", down(), webhook_config(endpoint), {"signing_secrets": [new, old]}).ok
    [request] = endpoint.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    assert verify(new, request)
    assert verify(old, request)
    assert not verify(new_signing_secret(), request)


def test_a_replayed_or_altered_request_is_rejected(send: Send, endpoint: Receiver) -> None:
    secret = new_signing_secret()
    assert send("webhook", down(), webhook_config(endpoint), {"signing_secrets": [secret]}).ok
    [request] = endpoint.requests
    stamp = int(request.headers["webhook-timestamp"])
    assert verify(secret, request, now=stamp + TOLERANCE_S)
    assert not verify(secret, request, now=stamp + TOLERANCE_S + 1)
    assert not verify(secret, request, now=stamp - TOLERANCE_S - 1)
    tampered = Request(request.method, request.path, request.headers, request.body + b" ")
    assert not verify(secret, tampered)
    moved = dict(request.headers, **{"webhook-timestamp": str(stamp + 60)})
    assert not verify(secret, Request(request.method, request.path, moved, request.body))


def test_crisp_format_sends_the_page_event_only(send: Send, endpoint: Receiver) -> None:
    secret = {"signing_secrets": [new_signing_secret()]}
    config = webhook_config(endpoint, format="crisp")
    assert send("webhook", crisp(), config, secret) == Sent(ok=True, status=204)
    wrong = send("webhook", down(), config, secret)
    assert (wrong.ok, wrong.permanent) == (False, True)
    assert wrong.error == "a crisp webhook channel cannot send a ProbeNotice"
    [request] = endpoint.requests
    assert verify(secret["signing_secrets"][0], request)
    body = request.json()
    assert body["event"] == "status:health:changed"
    assert body["website_id"] == "acme"
    assert body["data"]["health"] in {"healthy", "sick", "dead"}
    assert body["data"]["nodes"] == [
        {"label": "SIP trunk A", "replica": "ams"},
        {"label": "IVR", "replica": "fra"},
    ]
    assert isinstance(body["timestamp"], int)
    assert body["timestamp"] == 1741944413000
    assert CrispHealthChanged.model_validate(body) == crisp()
