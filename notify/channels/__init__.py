"""The channel plugins by kind: the one place that knows which exist."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from notify.channels.base import Channel
from notify.channels.email import Email
from notify.channels.pagerduty import PagerDuty
from notify.channels.pushover import Pushover
from notify.channels.slack import Slack
from notify.channels.teams import Teams
from notify.channels.webhook import Webhook

CHANNELS: Mapping[str, type[Channel]] = MappingProxyType(
    {plugin.kind: plugin for plugin in (Webhook, Slack, Teams, PagerDuty, Email, Pushover)}
)


class UnknownChannel(ValueError):
    """A channel kind no plugin implements."""


def channel(kind: str) -> type[Channel]:
    """The plugin for ``kind``; raises :class:`UnknownChannel` naming the known kinds."""
    try:
        return CHANNELS[kind]
    except KeyError:
        known = ", ".join(sorted(CHANNELS))
        raise UnknownChannel(f"unknown channel kind {kind!r} (known: {known})") from None
