"""What each channel renders from a notice: the shared wording, provider limits met by
truncating, user text escaped, states mapped to severities and priorities."""

from __future__ import annotations

import json
import uuid

import pytest

from notify.channels import email, pagerduty, pushover, slack, teams, wording
from notify.channels.base import Delivery
from notify.payloads import Flapping, Measured, ProbeNotice, Reminder
from tests.unit.notify.notices import down, recovered

KEY = "dlv_01HZX"
ROUTING = "R0123456789abcdefABCDEF012345678"
PUSH = "azGDORePK8gMaC0QOYAMyEEuzJnyUi"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, "SIP trunk A is unhealthy"),
        ({"from_state": "unhealthy", "to_state": "healthy"}, "SIP trunk A recovered"),
        ({"from_state": "unknown", "to_state": "healthy"}, "SIP trunk A is healthy"),
        (
            {"type": "probe.flapping", "flapping": Flapping(changes=6, window_minutes=5)},
            "SIP trunk A is flapping (6 changes in 5 min)",
        ),
        ({"type": "probe.settled"}, "SIP trunk A stopped flapping and is unhealthy"),
        (
            {"type": "probe.reminder", "reminder": Reminder(number=2, open_for_s=11_100)},
            "SIP trunk A is still unhealthy (for 3h 05m)",
        ),
        ({"type": "test"}, "Test notice from callprobe for SIP trunk A"),
    ],
)
def test_headline(fields: dict[str, object], expected: str) -> None:
    assert wording.headline(down(**fields)) == expected


def test_facts_and_measured_lines() -> None:
    notice = down()
    assert wording.facts(notice) == [
        ("State", "unhealthy (was healthy)"),
        ("Probe", "SIP trunk A (sip_call)"),
        ("Project", "Acme voice"),
        ("Cause", "mos below critical"),
        ("Time", "2025-03-14 09:26:53 UTC"),
        ("Incident opened", "2025-03-14 09:26:53 UTC"),
    ]
    assert wording.measured(notice) == [
        "mos 3.10 below critical 3.50 at ams",
        "jitter 42.0 ms above warning 30.0 ms at fra",
    ]
    assert wording.clip("abcdef", 4) == "abc…"
    assert wording.clip("abcd", 4) == "abcd"


def long_notice() -> ProbeNotice:
    many = [Measured(state="unhealthy", rule="r", text=f"rule {i} " + "x" * 300) for i in range(40)]
    return down(probe=down().probe.model_copy(update={"name": "N" * 400}), reasons=many)


def test_slack_truncates_to_block_kit_limits_and_escapes_mrkdwn() -> None:
    blocks = slack.blocks(long_notice())
    assert len(blocks[0]["text"]["text"]) == 150
    assert blocks[0]["text"]["text"].endswith("…")
    assert all(len(field["text"]) <= 2000 for field in blocks[1]["fields"])
    assert len(blocks[2]["text"]["text"]) == 3000
    hostile = slack.message(down(probe=down().probe.model_copy(update={"name": "<!channel> & co"})))
    assert hostile["text"].startswith("&lt;!channel&gt; &amp; co is unhealthy")
    mrkdwn = [b for b in json.dumps(hostile["blocks"][1:]).split('"type": "mrkdwn"')[1:]]
    assert mrkdwn and all("<!channel>" not in text for text in mrkdwn)
    assert hostile["blocks"][0]["text"] == {
        "type": "plain_text",
        "text": "<!channel> & co is unhealthy",
        "emoji": True,
    }
    assert slack.mrkdwn("a&b", 4)["text"] == "a…"


def test_teams_card_colours_by_state_and_links_the_page() -> None:
    card = teams.card(down())
    assert card["body"][0]["color"] == "Attention"
    assert teams.card(recovered())["body"][0]["color"] == "Good"
    assert card["actions"] == [
        {"type": "Action.OpenUrl", "title": "Open Acme status", "url": "https://status.acme.test/"}
    ]
    assert "actions" not in teams.card(down(pages=[]))


@pytest.mark.parametrize(
    ("fields", "action", "severity"),
    [
        ({}, "trigger", "critical"),
        ({"to_state": "degraded"}, "trigger", "warning"),
        ({"to_state": "unknown"}, "trigger", "info"),
        ({"type": "probe.flapping", "to_state": "healthy"}, "trigger", "warning"),
        ({"type": "probe.reminder"}, "trigger", "critical"),
        ({"from_state": "unhealthy", "to_state": "healthy"}, "resolve", None),
        ({"type": "probe.settled", "to_state": "healthy"}, "resolve", None),
    ],
)
def test_pagerduty_action_and_severity(
    fields: dict[str, object], action: str, severity: str | None
) -> None:
    event = pagerduty.event(down(**fields), ROUTING)
    assert event["event_action"] == action
    assert event["dedup_key"] == "callprobe-incident-5b0f7a0e"
    assert event.get("payload", {}).get("severity") == severity


def test_pagerduty_summary_limit_and_key_without_incident() -> None:
    event = pagerduty.trigger(long_notice())
    assert len(event["payload"]["summary"]) == 1024
    assert len(event["payload"]["source"]) == 255
    loose = down(incident=None, probe=down().probe.model_copy(update={"id": uuid.UUID(int=7)}))
    assert pagerduty.dedup_key(loose) == f"callprobe-probe-{uuid.UUID(int=7)}"


@pytest.mark.parametrize(
    ("fields", "priority"),
    [
        ({}, 1),
        ({"to_state": "degraded"}, 0),
        ({"from_state": "unhealthy", "to_state": "healthy"}, -1),
        ({"type": "probe.flapping", "to_state": "unhealthy"}, 0),
    ],
)
def test_pushover_priority_by_state(fields: dict[str, object], priority: int) -> None:
    secrets = pushover.PushoverSecrets(token=PUSH, user_key=PUSH)
    assert pushover.message(down(**fields), secrets, None)["priority"] == priority


def test_pushover_limits() -> None:
    secrets = pushover.PushoverSecrets(token=PUSH, user_key=PUSH)
    body = pushover.message(long_notice(), secrets, "phone")
    assert (len(body["title"]), len(body["message"]), body["device"]) == (250, 1024, "phone")
    assert pushover.message(recovered(), secrets, None)["message"] == "all rules pass"


def test_email_escapes_html_and_keeps_message_id_per_delivery_key() -> None:
    name = '<script>alert("x")</script>'
    notice = down(probe=down().probe.model_copy(update={"name": name}))
    config = email.EmailConfig(
        host="smtp.acme.test", sender="alerts@acme.test", recipients=["noc@acme.test"]
    )
    first = email.message(Delivery(key=KEY, notice=notice), notice, config)
    again = email.message(Delivery(key=KEY, notice=notice), notice, config)
    other = email.message(Delivery(key="dlv_other", notice=notice), notice, config)
    assert first["Message-ID"] == again["Message-ID"] != other["Message-ID"]
    assert first["Message-ID"].endswith("@acme.test>")
    html = email.html(notice)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; is unhealthy" in html
    assert first["Date"] == "Fri, 14 Mar 2025 09:26:53 +0000"
