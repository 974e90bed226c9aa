"""The JSON POST every HTTP channel makes: its body bytes and the headers they share,
and :class:`JsonChannel`, the shape of a plugin that POSTs one JSON document per probe
notice (Slack, Teams, PagerDuty, Pushover): it only says where to, and what."""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from typing import Any, ClassVar

from notify.channels.base import ChannelConfig, Delivery, Outbound, Sent
from notify.payloads import ProbeNotice

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


class JsonChannel:
    """A plugin sending each probe notice as one JSON POST (Crisp page events are not
    for it); subclasses name their models and implement :meth:`url` and :meth:`body`."""

    kind: ClassVar[str]
    Config: ClassVar[type[ChannelConfig]]
    Secrets: ClassVar[type[ChannelConfig]]
    formats: ClassVar[frozenset[str]] = frozenset({"probe"})

    @classmethod
    def url(cls, config: ChannelConfig, secrets: ChannelConfig) -> str:
        """Where the documents go."""
        raise NotImplementedError

    @classmethod
    def body(cls, notice: ProbeNotice, config: ChannelConfig, secrets: ChannelConfig) -> Any:
        """The document for one notice."""
        raise NotImplementedError

    @classmethod
    def targets(cls, config: ChannelConfig, secrets: ChannelConfig) -> list[str]:
        return [cls.url(config, secrets)]

    @classmethod
    async def send(
        cls, delivery: Delivery, config: ChannelConfig, secrets: ChannelConfig, out: Outbound
    ) -> Sent:
        if not isinstance(delivery.notice, ProbeNotice):
            return unsupported(cls.kind, delivery)
        document = cls.body(delivery.notice, config, secrets)
        return await post_json(out, cls.url(config, secrets), document, delivery)
