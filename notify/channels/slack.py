"""Slack through an incoming webhook: a Block Kit message with a plain-text fallback.

The webhook URL is the credential, so it is the channel's secret. Block Kit's limits are
met by truncating: header text 150 characters, section text 3000, field text 2000, at
most 10 fields, button text 75 and URL 3000.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar

from notify.channels import http, wording
from notify.channels.base import ChannelConfig
from notify.channels.fields import Secret, narrow, shaped
from notify.payloads import ProbeNotice

_WEBHOOK = r"https://hooks\.slack\.com(?::\d{1,5})?/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+"
"""Slack's URLs carry no port; an explicit one is the same host (tests run a receiver)."""

_PARTIAL_ENTITY = re.compile(r"&[a-z]*$")

Block = dict[str, Any]


class SlackConfig(ChannelConfig):
    """Nothing public: where the message goes is the secret URL."""


class SlackSecrets(ChannelConfig):
    webhook_url: Annotated[
        str,
        Secret,
        shaped(
            _WEBHOOK,
            "not a Slack incoming webhook URL (https://hooks.slack.com/services/T…/B…/…)",
        ),
    ]


def mrkdwn(text: str, limit: int) -> dict[str, str]:
    """User text in Slack's mrkdwn: ``&``, ``<`` and ``>`` escaped, so a probe name can
    neither mention ``@channel`` nor forge a link."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if len(escaped) > limit:
        escaped = _PARTIAL_ENTITY.sub("", escaped[: limit - 1]) + "…"
    return {"type": "mrkdwn", "text": escaped}


def plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": wording.clip(text, limit), "emoji": True}


def blocks(notice: ProbeNotice) -> list[Block]:
    fields = [mrkdwn(f"*{label}*\n{value}", 2000) for label, value in wording.facts(notice)]
    out: list[Block] = [
        {"type": "header", "text": plain(wording.headline(notice), 150)},
        {"type": "section", "fields": fields[:10]},
    ]
    lines = wording.measured(notice)
    if lines:
        text = "\n".join(f"• {line}" for line in lines)
        out.append({"type": "section", "text": mrkdwn(f"*Measured*\n{text}", 3000)})
    out.append(
        {"type": "context", "elements": [mrkdwn(f"callprobe · {wording.when(notice)}", 2000)]}
    )
    page = wording.page(notice)
    if page is not None and len(page.url) <= 3000:
        button = {"type": "button", "text": plain(f"Open {page.name}", 75), "url": page.url}
        out.append({"type": "actions", "elements": [button]})
    return out


def message(notice: ProbeNotice) -> dict[str, Any]:
    """The request body: ``text`` is what notifications and old clients show."""
    fallback = mrkdwn(" · ".join([wording.headline(notice), *wording.measured(notice)]), 3000)
    return {"text": fallback["text"], "blocks": blocks(notice)}


class Slack(http.JsonChannel):
    kind: ClassVar[str] = "slack"
    Config: ClassVar[type[ChannelConfig]] = SlackConfig
    Secrets: ClassVar[type[ChannelConfig]] = SlackSecrets

    @classmethod
    def url(cls, config: ChannelConfig, secrets: ChannelConfig) -> str:
        return narrow(SlackSecrets, secrets).webhook_url

    @classmethod
    def body(cls, notice: ProbeNotice, config: ChannelConfig, secrets: ChannelConfig) -> Any:
        return message(notice)
