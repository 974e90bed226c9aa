"""The JSON POST every HTTP channel makes: its body bytes and the headers they share."""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version

from notify.channels.base import Delivery, Outbound, Sent

try:
    USER_AGENT = f"callprobe/{version('callprobe')}"
except PackageNotFoundError:  # pragma: no cover - run from a source tree without install
    USER_AGENT = "callprobe"


def headers(delivery: Delivery) -> dict[str, str]:
    """JSON, who sends it, and the idempotency key a receiver can drop a repeat by."""
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "idempotency-key": delivery.key,
    }


def body(document: object) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


async def post_json(out: Outbound, url: str, document: object, delivery: Delivery) -> Sent:
    return await out.post(url, body(document), headers(delivery))


def unsupported(kind: str, delivery: Delivery) -> Sent:
    """A document this channel cannot render: routing sent it the wrong format."""
    what = type(delivery.notice).__name__
    return Sent(ok=False, permanent=True, error=f"a {kind} channel cannot send a {what}")
