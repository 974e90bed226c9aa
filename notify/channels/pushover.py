"""Pushover: a push message whose priority follows the state.

Priority 2 (emergency) is not used: it repeats until acknowledged and needs ``retry`` and
``expire``, which would page a phone every few seconds for a probe that already reminds.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Field

from notify.channels import http, wording
from notify.channels.base import ChannelConfig
from notify.channels.fields import HttpUrl, Secret, narrow, shaped
from notify.payloads import ProbeNotice

PRIORITY = {"unhealthy": 1, "degraded": 0, "unknown": 0, "healthy": -1}
"""High for a probe down, normal for degraded, quiet for a recovery."""

_KEY = r"[A-Za-z0-9]{30}"


class PushoverConfig(ChannelConfig):
    url: HttpUrl = "https://api.pushover.net/1/messages.json"
    device: (
        Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,25}(,[A-Za-z0-9_-]{1,25})*$")] | None
    ) = None
    """One device name, or several separated by commas; none sends to all of the user's."""


class PushoverSecrets(ChannelConfig):
    token: Annotated[str, Secret, shaped(_KEY, "a Pushover API token is 30 letters and digits")]
    user_key: Annotated[
        str, Secret, shaped(_KEY, "a Pushover user or group key is 30 letters and digits")
    ]


def priority(notice: ProbeNotice) -> int:
    return 0 if notice.type == "probe.flapping" else PRIORITY[notice.to_state]


def message(notice: ProbeNotice, secrets: PushoverSecrets, device: str | None) -> dict[str, Any]:
    """The request body (the API takes JSON); text cut to its limits."""
    lines = wording.measured(notice) or [notice.cause]
    body: dict[str, Any] = {
        "token": secrets.token,
        "user": secrets.user_key,
        "title": wording.clip(wording.headline(notice), 250),
        "message": wording.clip("\n".join(lines), 1024),
        "priority": priority(notice),
        "timestamp": int(notice.occurred_at.timestamp()),
    }
    page = wording.page(notice)
    if page is not None and len(page.url) <= 512:
        body |= {"url": page.url, "url_title": wording.clip(page.name, 100)}
    if device is not None:
        body["device"] = device
    return body


class Pushover(http.JsonChannel):
    kind: ClassVar[str] = "pushover"
    Config: ClassVar[type[ChannelConfig]] = PushoverConfig
    Secrets: ClassVar[type[ChannelConfig]] = PushoverSecrets

    @classmethod
    def url(cls, config: ChannelConfig, secrets: ChannelConfig) -> str:
        return narrow(PushoverConfig, config).url

    @classmethod
    def body(cls, notice: ProbeNotice, config: ChannelConfig, secrets: ChannelConfig) -> Any:
        return message(
            notice, narrow(PushoverSecrets, secrets), narrow(PushoverConfig, config).device
        )
