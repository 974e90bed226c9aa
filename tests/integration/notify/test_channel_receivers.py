"""Slack, Teams, PagerDuty, Pushover and email against real receivers on loopback, each
request checked field by field against the provider's documented shape."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP

from notify.channels.base import Sent
from tests.conftest import Run
from tests.integration.notify.providers import (
    KEY,
    Inbox,
    Receiver,
    Send,
    Tls,
    common_headers,
    provider,
)
from tests.unit.notify.notices import down, recovered

ROUTING = "R0123456789abcdefABCDEF012345678"
PUSH_TOKEN = "azGDORePK8gMaC0QOYAMyEEuzJnyUi"
PUSH_USER = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG"
REASON_LINES = [
    "mos 3.10 below critical 3.50 at ams",
    "jitter 42.0 ms above warning 30.0 ms at fra",
]


slack_hook = provider(200, b"ok", "text/plain")
teams_flow = provider(202, b"")
pagerduty_api = provider(202, b'{"status":"success","message":"Event processed","dedup_key":"x"}')
pushover_api = provider(200, b'{"status":1,"request":"5042853c-402d-4a18-abcb"}')


@pytest.fixture
def smtp(run: Run[Any], tls: Tls) -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()

    def protocol() -> SMTP:
        return SMTP(
            inbox,
            hostname="smtp.acme.test",
            tls_context=tls.server,
            require_starttls=True,
            authenticator=inbox.authenticate,
            auth_required=True,
        )

    async def start() -> Any:
        return await asyncio.get_running_loop().create_server(protocol, "127.0.0.1", 0)

    server = run(start())
    yield inbox, server.sockets[0].getsockname()[1]
    server.close()


def test_slack_gets_block_kit_with_a_plain_text_fallback(send: Send, slack_hook: Receiver) -> None:
    path = "/services/T0001ABCD/B0002EFGH/abcdEFGH1234ijklMNOP5678"
    url = f"https://hooks.slack.com:{slack_hook.port}{path}"
    assert send("slack", down(), {}, {"webhook_url": url}) == Sent(ok=True, status=200)
    [request] = slack_hook.requests
    common_headers(request)
    assert request.path == path
    body = request.json()
    assert body["text"] == (
        "SIP trunk A is unhealthy · mos 3.10 below critical 3.50 at ams"
        " · jitter 42.0 ms above warning 30.0 ms at fra"
    )
    header, facts, measured, context, actions = body["blocks"]
    assert [b["type"] for b in body["blocks"]] == [
        "header",
        "section",
        "section",
        "context",
        "actions",
    ]
    assert header["text"] == {
        "type": "plain_text",
        "text": "SIP trunk A is unhealthy",
        "emoji": True,
    }
    assert len(facts["fields"]) <= 10
    assert all(f["type"] == "mrkdwn" and len(f["text"]) <= 2000 for f in facts["fields"])
    assert facts["fields"][:4] == [
        {"type": "mrkdwn", "text": "*State*\nunhealthy (was healthy)"},
        {"type": "mrkdwn", "text": "*Probe*\nSIP trunk A (sip_call)"},
        {"type": "mrkdwn", "text": "*Project*\nAcme voice"},
        {"type": "mrkdwn", "text": "*Cause*\nmos below critical"},
    ]
    assert measured["text"]["type"] == "mrkdwn"
    assert measured["text"]["text"] == (
        "*Measured*\n• mos 3.10 below critical 3.50 at ams"
        "\n• jitter 42.0 ms above warning 30.0 ms at fra"
    )
    assert context["elements"] == [
        {"type": "mrkdwn", "text": "callprobe · 2025-03-14 09:26:53 UTC"}
    ]
    [button] = actions["elements"]
    assert button["type"] == "button"
    assert button["url"] == "https://status.acme.test/"
    assert button["text"]["type"] == "plain_text"
    assert len(button["text"]["text"]) <= 75


def test_teams_gets_an_adaptive_card_message(send: Send, teams_flow: Receiver) -> None:
    path = "/workflows/0123abcd/triggers/manual/paths/invoke"
    query = "?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=s1G"
    url = f"https://prod-11.westeurope.logic.azure.com:{teams_flow.port}{path}{query}"
    assert send("teams", down(), {}, {"workflow_url": url}) == Sent(ok=True, status=202)
    [request] = teams_flow.requests
    common_headers(request)
    assert request.path == path + query
    body = request.json()
    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["contentUrl"] is None
    card = attachment["content"]
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    title, facts, *reasons = card["body"]
    assert title["type"] == "TextBlock"
    assert (title["text"], title["weight"], title["color"]) == (
        "SIP trunk A is unhealthy",
        "Bolder",
        "Attention",
    )
    assert facts["type"] == "FactSet"
    assert facts["facts"][0] == {"title": "State", "value": "unhealthy (was healthy)"}
    assert {f["title"] for f in facts["facts"]} >= {"Probe", "Project", "Cause", "Time"}
    assert [r["text"] for r in reasons] == [
        "- mos 3.10 below critical 3.50 at ams",
        "- jitter 42.0 ms above warning 30.0 ms at fra",
    ]
    assert all(r["type"] == "TextBlock" and r["wrap"] for r in reasons)
    assert card["actions"] == [
        {"type": "Action.OpenUrl", "title": "Open Acme status", "url": "https://status.acme.test/"}
    ]


def test_pagerduty_triggers_then_resolves_the_same_alert(
    send: Send, pagerduty_api: Receiver
) -> None:
    config = {"url": f"https://events.pagerduty.com:{pagerduty_api.port}/v2/enqueue"}
    secrets = {"routing_key": ROUTING}
    assert send("pagerduty", down(), config, secrets) == Sent(ok=True, status=202)
    assert send("pagerduty", recovered(), config, secrets) == Sent(ok=True, status=202)
    trigger, resolve = pagerduty_api.requests
    for request in (trigger, resolve):
        common_headers(request)
        assert request.path == "/v2/enqueue"
    event = trigger.json()
    assert event["routing_key"] == ROUTING
    assert event["event_action"] == "trigger"
    assert event["dedup_key"] == "callprobe-incident-5b0f7a0e"
    payload = event["payload"]
    assert payload["summary"] == (
        "SIP trunk A is unhealthy · mos 3.10 below critical 3.50 at ams"
        " · jitter 42.0 ms above warning 30.0 ms at fra"
    )
    assert len(payload["summary"]) <= 1024
    assert (payload["source"], payload["severity"]) == ("SIP trunk A", "critical")
    assert datetime.fromisoformat(payload["timestamp"]) == down().occurred_at
    assert (payload["component"], payload["group"], payload["class"]) == (
        "SIP trunk A",
        "Acme voice",
        "sip_call",
    )
    details = payload["custom_details"]
    assert details["measured"] == REASON_LINES
    assert details["reasons"][0]["value"] == 3.1
    assert details["incident_id"] == "5b0f7a0e-3a8e-4c3e-9a3c-2f1d8e7c6b5a"
    assert event["links"] == [{"href": "https://status.acme.test/", "text": "Acme status"}]
    assert (event["client"], event["client_url"]) == ("callprobe", "https://status.acme.test/")
    assert resolve.json() == {
        "routing_key": ROUTING,
        "dedup_key": "callprobe-incident-5b0f7a0e",
        "event_action": "resolve",
    }


def test_pushover_gets_its_fields_with_priority_by_state(
    send: Send, pushover_api: Receiver
) -> None:
    config = {"url": f"https://api.pushover.net:{pushover_api.port}/1/messages.json"}
    secrets = {"token": PUSH_TOKEN, "user_key": PUSH_USER}
    assert send("pushover", down(), config | {"device": "noc-phone"}, secrets).ok
    assert send("pushover", recovered(), config, secrets).ok
    down_request, up_request = pushover_api.requests
    common_headers(down_request)
    assert down_request.path == "/1/messages.json"
    assert down_request.json() == {
        "token": PUSH_TOKEN,
        "user": PUSH_USER,
        "title": "SIP trunk A is unhealthy",
        "message": "\n".join(REASON_LINES),
        "priority": 1,
        "timestamp": int(down().occurred_at.timestamp()),
        "url": "https://status.acme.test/",
        "url_title": "Acme status",
        "device": "noc-phone",
    }
    up = up_request.json()
    assert (up["title"], up["message"], up["priority"]) == (
        "SIP trunk A recovered",
        "all rules pass",
        -1,
    )
    assert "device" not in up


def test_email_is_plain_text_and_escaped_html_over_starttls(
    send: Send, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    name = "SIP trunk <script>alert(1)</script>"
    notice = down(probe=down().probe.model_copy(update={"name": name}))
    config = {
        "host": "smtp.acme.test",
        "port": port,
        "username": "alerts",
        "sender": "alerts@acme.test",
        "recipients": ["noc@acme.test", "oncall@acme.test"],
    }
    sent = send("email", notice, config, {"password": "s3cret"})
    assert sent == Sent(ok=True, status=250)
    assert inbox.logins == [b"alerts"]
    [envelope] = inbox.envelopes
    assert envelope.mail_from == "alerts@acme.test"
    assert envelope.rcpt_tos == ["noc@acme.test", "oncall@acme.test"]
    assert isinstance(envelope.content, bytes)
    mail = message_from_bytes(envelope.content, policy=policy.default)
    assert isinstance(mail, EmailMessage)
    assert mail["Subject"] == f"[callprobe] {name} is unhealthy"
    assert (mail["From"], mail["To"]) == ("alerts@acme.test", "noc@acme.test, oncall@acme.test")
    digest = hashlib.sha256(KEY.encode()).hexdigest()[:40]
    assert mail["Message-ID"] == f"<{digest}@acme.test>"
    assert mail["X-Callprobe-Idempotency-Key"] == KEY
    assert mail.get_content_type() == "multipart/alternative"
    plain, html = mail.iter_parts()
    assert plain.get_content_type() == "text/plain"
    text = plain.get_content().replace("\r\n", "\n")
    assert text.startswith(f"{name} is unhealthy\n\nState: unhealthy (was healthy)\n")
    assert "- mos 3.10 below critical 3.50 at ams\n" in text
    assert "Acme status: https://status.acme.test/" in text
    assert html.get_content_type() == "text/html"
    assert html.get_content_charset() == "utf-8"
    markup = html.get_content()
    assert "<script>" not in markup
    assert "<h2>SIP trunk &lt;script&gt;alert(1)&lt;/script&gt; is unhealthy</h2>" in markup
    assert "<li>jitter 42.0 ms above warning 30.0 ms at fra</li>" in markup
    assert '<a href="https://status.acme.test/">Open Acme status</a>' in markup


def test_email_with_a_wrong_password_fails_permanently(send: Send, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    config = {"host": "smtp.acme.test", "port": port, "username": "alerts"}
    config |= {"sender": "alerts@acme.test", "recipients": ["noc@acme.test"]}
    sent = send("email", down(), config, {"password": "wrong"})
    assert (sent.ok, sent.permanent, sent.status) == (False, True, 535)
    assert sent.error is not None and "refused the credentials" in sent.error
    assert inbox.envelopes == []
