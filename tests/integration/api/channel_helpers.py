"""What the channel API tests share: a webhook channel on a loopback receiver, and an
independent check of Standard Webhooks signatures (HMAC-SHA256 by hand, not the library
callprobe signs with)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from fastapi.testclient import TestClient

from tests.integration.api.conftest import Tenant, create
from tests.integration.notify.receiver import Request

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


def webhook(client: TestClient, tenant: Tenant, url: str, **fields: Any) -> dict[str, Any]:
    """A webhook channel POSTing to ``url``; extra body fields as given."""
    body = {"name": "ops webhook", "kind": "webhook", "config": {"url": url}, **fields}
    return create(client, tenant, "/v1/channels", body)


def send_test(client: TestClient, tenant: Tenant, channel_id: str) -> dict[str, Any]:
    """The answer of the channel's test-send route (which must answer 200)."""
    response = client.post(f"/v1/channels/{channel_id}/test", headers=tenant.headers)
    assert response.status_code == 200, response.text
    sent: dict[str, Any] = response.json()
    return sent


def signatures(request: Request) -> list[str]:
    """The ``v1`` signatures a request carries (one per valid secret)."""
    header = request.headers["webhook-signature"]
    return [part.removeprefix("v1,") for part in header.split(" ")]


def signed_by(request: Request, secret: str) -> bool:
    """Whether one of the request's signatures is ``secret``'s HMAC of id.timestamp.body."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = b".".join(
        [
            request.headers["webhook-id"].encode(),
            request.headers["webhook-timestamp"].encode(),
            request.body,
        ]
    )
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(expected, given) for given in signatures(request))
