"""The generic webhook, signed per the Standard Webhooks specification.

The body is the notice document itself (``ProbeNotice`` or, in ``crisp`` format, Crisp's
``status:health:changed``). During a secret rotation two secrets are valid and the request
carries one ``v1,`` signature per secret, space-separated, so receivers that know either
one verify it.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets as random
from datetime import UTC, datetime
from math import floor
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field, field_validator
from standardwebhooks.webhooks import Webhook as Signer

from notify.channels import http
from notify.channels.base import ChannelConfig, Delivery, Outbound, Sent
from notify.channels.fields import HttpUrl, Secret, narrow
from notify.payloads import CrispHealthChanged, ProbeNotice

_PREFIX = "whsec_"
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}")
_RESERVED = frozenset(
    {"host", "content-length", "content-type", "transfer-encoding", "connection"}
    | {"idempotency-key", "user-agent"}
)


def new_signing_secret() -> str:
    """A fresh secret: ``whsec_`` and the base64 of 32 random bytes (shown once)."""
    return _PREFIX + base64.b64encode(random.token_bytes(32)).decode()


def _signing_secret(value: str) -> str:
    """``whsec_`` + base64 of 24 to 64 bytes, as the specification sizes them."""
    if not value.startswith(_PREFIX):
        raise ValueError("a signing secret starts with 'whsec_'")
    try:
        key = base64.b64decode(value.removeprefix(_PREFIX), validate=True)
    except binascii.Error:
        raise ValueError("a signing secret is 'whsec_' followed by base64") from None
    if not 24 <= len(key) <= 64:
        raise ValueError("a signing secret holds 24 to 64 bytes")
    return value


SigningSecret = Annotated[str, AfterValidator(_signing_secret)]


class WebhookConfig(ChannelConfig):
    url: HttpUrl
    format: Literal["callprobe", "crisp"] = "callprobe"


class WebhookSecrets(ChannelConfig):
    signing_secrets: Annotated[list[SigningSecret], Secret, Field(min_length=1, max_length=2)]
    """The current secret, and the previous one while a rotation is under way."""
    headers: dict[str, Annotated[str, Field(max_length=1024)]] = Field(
        default_factory=dict, max_length=10
    )
    """Extra static headers (an ``Authorization`` a receiver expects, say): secrets too,
    since that is what they usually carry."""

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        if len({name.lower() for name in value}) < len(value):
            raise ValueError("a header is named twice (names are case-insensitive)")
        for name, text in value.items():
            lower = name.lower()
            if not _TOKEN.fullmatch(name):
                raise ValueError(f"{name!r} is not a valid header name")
            if lower in _RESERVED or lower.startswith("webhook-"):
                raise ValueError(f"the {name} header is set by callprobe")
            if any(char in text for char in "\r\n\0"):
                raise ValueError(f"the {name} header's value holds a line break")
        return value


def signature(delivery: Delivery, timestamp: datetime, body: bytes, keys: list[str]) -> str:
    """The ``webhook-signature`` header: one ``v1,`` signature per valid secret."""
    return " ".join(Signer(key).sign(delivery.key, timestamp, body) for key in keys)


class Webhook:
    kind: ClassVar[str] = "webhook"
    Config: ClassVar[type[ChannelConfig]] = WebhookConfig
    Secrets: ClassVar[type[ChannelConfig]] = WebhookSecrets
    formats: ClassVar[frozenset[str]] = frozenset({"probe", "crisp"})

    @classmethod
    def targets(cls, config: ChannelConfig, secrets: ChannelConfig) -> list[str]:
        return [narrow(WebhookConfig, config).url]

    @classmethod
    async def send(
        cls, delivery: Delivery, config: ChannelConfig, secrets: ChannelConfig, out: Outbound
    ) -> Sent:
        settings = narrow(WebhookConfig, config)
        wanted = ProbeNotice if settings.format == "callprobe" else CrispHealthChanged
        if not isinstance(delivery.notice, wanted):
            return http.unsupported(f"{settings.format} webhook", delivery)
        body = delivery.notice.model_dump_json().encode()
        now = datetime.now(UTC)
        sealed = narrow(WebhookSecrets, secrets)
        keys = sealed.signing_secrets
        headers = {
            **sealed.headers,
            **http.headers(delivery),
            "webhook-id": delivery.key,
            "webhook-timestamp": str(floor(now.timestamp())),
            "webhook-signature": signature(delivery, now, body, keys),
        }
        return await out.post(settings.url, body, headers)
