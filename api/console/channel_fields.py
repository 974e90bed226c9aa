"""The fields each kind of notification channel asks for in the console's form, and how
a posted form becomes the API's :class:`ChannelCreate` body (the plugin checks it)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData


@dataclass(frozen=True, kw_only=True, slots=True)
class Field:
    """One input: ``part`` is where it goes in the body (``config`` or write-only
    ``secrets``); ``kind`` is the input type (``list``: comma-separated values)."""

    name: str
    label: str
    part: str = "config"
    kind: str = "text"
    required: bool = True
    choices: tuple[str, ...] = ()
    default: str = ""

    @property
    def key(self) -> str:
        """Its name in the form and in the API's error locations."""
        return f"{self.part}.{self.name}"


def _secret(name: str, label: str, required: bool = True) -> Field:
    return Field(name=name, label=label, part="secrets", kind="password", required=required)


KINDS: dict[str, tuple[str, tuple[Field, ...]]] = {
    "webhook": ("Webhook (Standard Webhooks, signed)", (
        Field(name="url", label="URL", kind="url"),
        Field(name="format", label="Payload format", kind="select", choices=("callprobe", "crisp")),
    )),
    "slack": ("Slack", (_secret("webhook_url", "Incoming webhook URL"),)),
    "teams": ("Microsoft Teams (Workflows)", (_secret("workflow_url", "Workflow URL"),)),
    "pagerduty": ("PagerDuty Events v2", (
        _secret("routing_key", "Routing (integration) key"),
        Field(name="url", label="Events URL (EU accounts: events.eu.pagerduty.com)",
              kind="url", required=False),
    )),
    "email": ("Email (SMTP)", (
        Field(name="host", label="SMTP host"),
        Field(name="port", label="Port", kind="number", default="587"),
        Field(name="security", label="Security", kind="select",
              choices=("starttls", "tls", "none")),
        Field(name="username", label="User name", required=False),
        _secret("password", "Password", required=False),
        Field(name="sender", label="From address", kind="email"),
        Field(name="recipients", label="To addresses (comma-separated)", kind="list"),
    )),
    "pushover": ("Pushover", (
        _secret("token", "API token"),
        _secret("user_key", "User or group key"),
        Field(name="device", label="Devices (comma-separated, empty: all)", required=False),
    )),
}  # fmt: skip


def body(kind: str, posted: FormData) -> dict[str, Any]:
    """The create body for ``kind`` from a posted form; empty optional fields left out."""
    parts: dict[str, dict[str, Any]] = {"config": {}, "secrets": {}}
    for field in KINDS[kind][1]:
        raw = str(posted.get(field.key, "")).strip()
        if raw:
            parts[field.part][field.name] = _value(field, raw)
    return {"name": str(posted.get("name", "")).strip(), "kind": kind, **parts}


def _value(field: Field, raw: str) -> Any:
    if field.kind == "number" and raw.isdigit():
        return int(raw)
    if field.kind == "list":
        return [item for item in re.split(r"[,\s]+", raw) if item]
    return raw
