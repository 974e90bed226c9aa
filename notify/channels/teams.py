"""Microsoft Teams through a Workflows (Power Automate) webhook: one Adaptive Card.

Office 365 connectors (``*.webhook.office.com``) are retired; a Workflows trigger URL
(``*.logic.azure.com`` or ``*.environment.api.powerplatform.com``) replaces them. The
"Post to a channel when a webhook request is received" flow expects a ``message`` with
an Adaptive Card attachment, which is what this sends.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar
from urllib.parse import urlsplit

from pydantic import AfterValidator

from notify.channels import http, wording
from notify.channels.base import ChannelConfig
from notify.channels.fields import HttpsUrl, Secret, narrow
from notify.payloads import ProbeNotice

_WORKFLOW_HOSTS = (".logic.azure.com", ".environment.api.powerplatform.com")
_TRIGGER_PATH = re.compile(r"/(?:.+/)?workflows/[^/]+/triggers/[^/]+/paths/invoke/?")
_RETIRED_HOSTS = (".webhook.office.com", "outlook.office.com", "outlook.office365.com")
_COLOR = {"healthy": "Good", "degraded": "Warning", "unhealthy": "Attention", "unknown": "Default"}


def _workflow_url(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host.endswith(_RETIRED_HOSTS):
        raise ValueError(
            "Office 365 connector webhooks are retired in Teams: "
            "use a Workflows webhook (Power Automate) URL"
        )
    if not host.endswith(_WORKFLOW_HOSTS) or not _TRIGGER_PATH.fullmatch(parts.path):
        raise ValueError(
            "not a Teams Workflows webhook URL (https://….logic.azure.com/workflows/…/triggers"
            "/manual/paths/invoke?… or ….environment.api.powerplatform.com/…)"
        )
    return url


class TeamsConfig(ChannelConfig):
    """Nothing public: the workflow URL carries its own signature, so it is the secret."""


class TeamsSecrets(ChannelConfig):
    workflow_url: Annotated[HttpsUrl, Secret, AfterValidator(_workflow_url)]


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": wording.clip(text, 2000), "wrap": True, **style}


def card(notice: ProbeNotice) -> dict[str, Any]:
    """An Adaptive Card 1.4 (what Teams renders): headline, facts, measured values, a
    button to the status page."""
    title = _text(
        wording.headline(notice), weight="Bolder", size="Medium", color=_COLOR[notice.to_state]
    )
    facts = [{"title": label, "value": value} for label, value in wording.facts(notice)]
    body: list[dict[str, Any]] = [title, {"type": "FactSet", "facts": facts}]
    body += [_text(f"- {line}", spacing="Small") for line in wording.measured(notice)[:20]]
    content: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    page = wording.page(notice)
    if page is not None:
        content["actions"] = [
            {"type": "Action.OpenUrl", "title": f"Open {page.name}", "url": page.url}
        ]
    return content


def message(notice: ProbeNotice) -> dict[str, Any]:
    attachment = {
        "contentType": "application/vnd.microsoft.card.adaptive",
        "contentUrl": None,
        "content": card(notice),
    }
    return {"type": "message", "attachments": [attachment]}


class Teams(http.JsonChannel):
    kind: ClassVar[str] = "teams"
    Config: ClassVar[type[ChannelConfig]] = TeamsConfig
    Secrets: ClassVar[type[ChannelConfig]] = TeamsSecrets

    @classmethod
    def url(cls, config: ChannelConfig, secrets: ChannelConfig) -> str:
        return narrow(TeamsSecrets, secrets).workflow_url

    @classmethod
    def body(cls, notice: ProbeNotice, config: ChannelConfig, secrets: ChannelConfig) -> Any:
        return message(notice)
