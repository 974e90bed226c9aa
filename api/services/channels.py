"""A channel's settings checked as a whole before they are stored.

The plugin of its kind validates the public ``config`` and the write-only ``secrets``
(pydantic errors become 422s naming the field), and every target the plugin sends to
passes the SSRF guard now, at configuration time, with the guard's own sentence as the
422 (the dispatcher checks again at every send, against DNS rebinding). A webhook given
no signing secret gets a fresh one, which the response shows once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from api.errors import invalid
from api.schemas.channels import ChannelOut, ChannelWithSecret
from api.schemas.common import has_nul
from notify.channels import UnknownChannel, channel
from notify.channels.base import Channel, ChannelConfig
from notify.channels.webhook import new_signing_secret
from notify.ssrf import Guard, TargetRefused
from store.channels import ChannelRow

SMTP_SCHEMES = ("smtp",)
RESEND = "send the secrets again when you change the target"


@dataclass(frozen=True, kw_only=True, slots=True)
class ChannelSettings:
    """A channel's validated plugin settings; ``made_secret`` is a signing secret made
    for it just now (to show once)."""

    plugin: type[Channel]
    config: ChannelConfig
    secrets: ChannelConfig
    made_secret: str | None = None

    @property
    def stored_config(self) -> dict[str, Any]:
        stored: dict[str, Any] = self.config.model_dump(mode="json")
        return stored

    @property
    def stored_secrets(self) -> dict[str, Any]:
        stored: dict[str, Any] = self.secrets.model_dump(mode="json")
        return stored


def plugin_of(kind: str) -> type[Channel]:
    """The plugin for ``kind``, or a 422 listing the kinds there are."""
    try:
        return channel(kind)
    except UnknownChannel as exc:
        raise invalid(("body", "kind"), str(exc)) from exc


def settings(
    plugin: type[Channel], config: dict[str, Any], secrets: dict[str, Any]
) -> ChannelSettings:
    """The plugin's models of ``config`` and ``secrets``, or a 422 naming each bad field."""
    made = None
    if plugin.kind == "webhook" and not secrets.get("signing_secrets"):
        made = new_signing_secret()
        secrets = {**secrets, "signing_secrets": [made]}
    parsed = ChannelSettings(
        plugin=plugin,
        config=_parse(plugin.Config, config, "config"),
        secrets=_parse(plugin.Secrets, secrets, "secrets"),
        made_secret=made,
    )
    if has_nul(parsed.stored_config):
        raise invalid(("body", "config"), "must not contain NUL characters")
    return parsed


def targets(parsed: ChannelSettings) -> list[str]:
    """Where the plugin sends, or a 422 when the settings cannot send anywhere (an SMTP
    user without a password)."""
    try:
        return parsed.plugin.targets(parsed.config, parsed.secrets)
    except ValueError as exc:
        raise invalid(("body", "secrets"), str(exc)) from exc


def destination(parsed: ChannelSettings) -> tuple[object, ...]:
    """Where and as whom the secrets are presented: a change needs them sent again."""
    return (*targets(parsed), parsed.stored_config.get("username"))


async def check_targets(guard: Guard, parsed: ChannelSettings) -> None:
    """Every target through the SSRF guard, or a 422 with the guard's reason."""
    for target in targets(parsed):
        schemes = SMTP_SCHEMES if target.startswith("smtp://") else ("https",)
        try:
            await guard.check_url(target, schemes)
        except TargetRefused as exc:
            raise invalid(_field_of(parsed, target), str(exc)) from exc


def out(
    row: ChannelRow, secrets: dict[str, Any], made_secret: str | None = None
) -> ChannelWithSecret:
    """The response for a channel: which secret fields are set, never their values."""
    fields = {name: getattr(row, name) for name in ChannelOut.model_fields if hasattr(row, name)}
    return ChannelWithSecret(
        **fields,
        paused=row.paused_at is not None,
        secrets_set=sorted(name for name, value in secrets.items() if value),
        signing_secret=made_secret,
    )


def _field_of(parsed: ChannelSettings, target: str) -> tuple[str, ...]:
    """The field a target came from (an SMTP target is made of host and port)."""
    for part, values in (("config", parsed.stored_config), ("secrets", parsed.stored_secrets)):
        for name, value in values.items():
            if value == target:
                return ("body", part, name)
    return ("body", "config")


def _parse(model: type[ChannelConfig], value: dict[str, Any], field: str) -> ChannelConfig:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        errors = [
            {"loc": ("body", field, *err["loc"]), "msg": err["msg"], "type": err["type"]}
            for err in exc.errors()
        ]
        raise RequestValidationError(errors) from exc
