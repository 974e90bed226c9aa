"""PagerDuty Events API v2: trigger while a probe is down, resolve when it recovers.

Every event of one incident carries the incident's ``dedup_key``, so a flap or a reminder
updates the open alert instead of paging twice, and the recovery resolves that alert.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from notify.channels import http, wording
from notify.channels.base import ChannelConfig
from notify.channels.fields import HttpUrl, Secret, narrow, shaped
from notify.payloads import ProbeNotice

SEVERITY = {"unhealthy": "critical", "degraded": "warning", "unknown": "info", "healthy": "info"}
_RESOLVING = frozenset({"probe.health_changed", "probe.settled"})


class PagerDutyConfig(ChannelConfig):
    url: HttpUrl = "https://events.pagerduty.com/v2/enqueue"
    """``https://events.eu.pagerduty.com/v2/enqueue`` for an EU account."""


class PagerDutySecrets(ChannelConfig):
    routing_key: Annotated[
        str,
        Secret,
        shaped(
            r"[A-Za-z0-9]{32}",
            "a PagerDuty routing (integration) key is 32 letters and digits",
        ),
    ]


def dedup_key(notice: ProbeNotice) -> str:
    """The incident's key; a notice outside an incident (a test) keys on its probe. The
    API takes 255 characters."""
    if notice.incident is not None:
        return notice.incident.dedup_key[:255]
    return f"callprobe-probe-{notice.probe.id}"


def resolves(notice: ProbeNotice) -> bool:
    return notice.to_state == "healthy" and notice.type in _RESOLVING


def severity(notice: ProbeNotice) -> str:
    return "warning" if notice.type == "probe.flapping" else SEVERITY[notice.to_state]


def details(notice: ProbeNotice) -> dict[str, Any]:
    """``custom_details``: the facts, and the measured values as the rules saw them."""
    return {
        **{label.lower().replace(" ", "_"): value for label, value in wording.facts(notice)},
        "measured": wording.measured(notice),
        "reasons": [reason.model_dump(mode="json") for reason in notice.reasons],
        "notice_id": notice.id,
        "incident_id": str(notice.incident.id) if notice.incident and notice.incident.id else None,
    }


def trigger(notice: ProbeNotice) -> dict[str, Any]:
    summary = " · ".join([wording.headline(notice), *wording.measured(notice)])
    event: dict[str, Any] = {
        "event_action": "trigger",
        "payload": {
            "summary": wording.clip(summary, 1024),
            "source": wording.clip(notice.probe.name, 255),
            "severity": severity(notice),
            "timestamp": notice.occurred_at.isoformat(),
            "component": notice.probe.name,
            "group": notice.project.name,
            "class": notice.probe.kind,
            "custom_details": details(notice),
        },
        "client": "callprobe",
    }
    page = wording.page(notice)
    if page is not None:
        event["client_url"] = page.url
        event["links"] = [{"href": page.url, "text": page.name}]
    return event


def event(notice: ProbeNotice, routing_key: str) -> dict[str, Any]:
    """The request body; a resolve carries no payload, as the API defines it."""
    body = {"event_action": "resolve"} if resolves(notice) else trigger(notice)
    return {"routing_key": routing_key, "dedup_key": dedup_key(notice), **body}


class PagerDuty(http.JsonChannel):
    kind: ClassVar[str] = "pagerduty"
    Config: ClassVar[type[ChannelConfig]] = PagerDutyConfig
    Secrets: ClassVar[type[ChannelConfig]] = PagerDutySecrets

    @classmethod
    def url(cls, config: ChannelConfig, secrets: ChannelConfig) -> str:
        return narrow(PagerDutyConfig, config).url

    @classmethod
    def body(cls, notice: ProbeNotice, config: ChannelConfig, secrets: ChannelConfig) -> Any:
        return event(notice, narrow(PagerDutySecrets, secrets).routing_key)
