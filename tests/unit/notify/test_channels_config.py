"""Channel configuration is validated at creation: each bad input fails with a clear message."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from pydantic import ValidationError

from notify.channels import CHANNELS, UnknownChannel, channel
from notify.channels.base import ChannelConfig
from notify.channels.email import EmailConfig, EmailSecrets
from notify.channels.pagerduty import PagerDutyConfig, PagerDutySecrets
from notify.channels.pushover import PushoverConfig, PushoverSecrets
from notify.channels.slack import SlackSecrets
from notify.channels.teams import TeamsSecrets
from notify.channels.webhook import WebhookConfig, WebhookSecrets, new_signing_secret

SLACK = "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
LOGIC = (
    "https://prod-11.westeurope.logic.azure.com:443/workflows/0123abcd/triggers/manual/paths"
    "/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=abc"
)
POWER = (
    "https://default0123.45.environment.api.powerplatform.com:443/powerautomate/automations"
    "/direct/workflows/0123abcd/triggers/manual/paths/invoke?api-version=1&sig=abc"
)
RETIRED = "https://acme.webhook.office.com/webhookb2/abc@def/IncomingWebhook/123/456"
SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
ROUTING = "R0123456789abcdefABCDEF012345678"
PUSH_KEY = "azGDORePK8gMaC0QOYAMyEEuzJnyUi"
MAIL = {"host": "smtp.acme.test", "sender": "alerts@acme.test", "recipients": ["noc@acme.test"]}


def error(model: type[ChannelConfig], data: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return " | ".join(str(item["msg"]) for item in caught.value.errors())


def test_registry_knows_six_kinds_and_names_them_on_a_miss() -> None:
    assert sorted(CHANNELS) == ["email", "pagerduty", "pushover", "slack", "teams", "webhook"]
    assert all(CHANNELS[kind].kind == kind for kind in CHANNELS)
    assert channel("slack") is CHANNELS["slack"]
    with pytest.raises(UnknownChannel, match="known: email, pagerduty, pushover, slack"):
        channel("discord")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.slack.com/services/T0/B0/x", "not a Slack incoming webhook URL"),
        ("https://hooks.slack.com/workflows/T0/A0/1/x", "not a Slack incoming webhook URL"),
        ("https://hooks.slack.com.evil.test/services/T0/B0/x", "not a Slack incoming webhook"),
        ("https://hooks.slack.com/services/T0/B0", "not a Slack incoming webhook URL"),
        ("https://example.com/services/T0/B0/x", "not a Slack incoming webhook URL"),
    ],
)
def test_slack_accepts_only_incoming_webhook_urls(url: str, message: str) -> None:
    assert message in error(SlackSecrets, {"webhook_url": url})


def test_slack_url_is_a_secret_kept_out_of_reprs() -> None:
    secrets = SlackSecrets.model_validate({"webhook_url": SLACK})
    assert "hooks.slack.com" not in repr(secrets)
    assert secrets.model_dump() == {"webhook_url": SLACK}


def test_teams_accepts_both_workflow_hosts() -> None:
    for url in (LOGIC, POWER):
        assert TeamsSecrets.model_validate({"workflow_url": url}).workflow_url == url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (RETIRED, "Office 365 connector webhooks are retired"),
        ("https://outlook.office.com/webhook/abc/IncomingWebhook/1/2", "retired"),
        ("https://prod-11.westeurope.logic.azure.com/something/else", "not a Teams Workflows"),
        ("https://logic.azure.com.evil.test/workflows/a/triggers/m/paths/invoke", "not a Teams"),
        (LOGIC.replace("https", "http"), "must be an https:// URL"),
    ],
)
def test_teams_refuses_retired_connectors_and_other_urls(url: str, message: str) -> None:
    assert message in error(TeamsSecrets, {"workflow_url": url})


@pytest.mark.parametrize("key", ["short", ROUTING + "9", ROUTING[:-1] + "-", ROUTING[:-1] + " "])
def test_pagerduty_routing_key_is_32_letters_and_digits(key: str) -> None:
    assert "32 letters and digits" in error(PagerDutySecrets, {"routing_key": key})


def test_pagerduty_defaults_to_the_us_endpoint_and_takes_the_eu_one() -> None:
    assert PagerDutyConfig().url == "https://events.pagerduty.com/v2/enqueue"
    eu = "https://events.eu.pagerduty.com/v2/enqueue"
    assert PagerDutyConfig(url=eu).url == eu
    assert "absolute http:// or https://" in error(PagerDutyConfig, {"url": "ftp://x/enqueue"})
    assert "spaces or control" in error(PagerDutyConfig, {"url": "https://a b/"})


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("sender", "alerts", "is not an email address"),
        ("sender", "Alerts <alerts@acme.test>", "is not an email address"),
        ("sender", "alerts@localhost", "bad domain"),
        ("recipients", ["noc@acme.test", "noc@acme..test"], "bad domain"),
        ("recipients", [], "at least 1 item"),
        ("recipients", [f"n{i}@acme.test" for i in range(51)], "at most 50 items"),
        ("host", "smtp acme", "is not a host name or IP address"),
        ("port", 0, "greater than or equal to 1"),
        ("security", "ssl", "'starttls', 'tls' or 'none'"),
        ("password", "x", "Extra inputs are not permitted"),
    ],
)
def test_email_config_refuses_bad_values(field: str, value: object, message: str) -> None:
    assert message in error(EmailConfig, MAIL | {field: value})


def test_email_config_defaults_and_login_needs_a_password() -> None:
    config = EmailConfig.model_validate(MAIL | {"host": "2001:db8::25", "username": "bot"})
    assert (config.port, config.security) == (587, "starttls")
    plugin = CHANNELS["email"]
    with pytest.raises(ValueError, match="username needs a password"):
        plugin.targets(config, EmailSecrets())
    assert plugin.targets(config, EmailSecrets(password="pw")) == ["smtp://[2001:db8::25]:587"]


@pytest.mark.parametrize(
    ("secrets", "message"),
    [
        ([], "at least 1 item"),
        ([SECRET, SECRET, SECRET], "at most 2 items"),
        (["k" * 40], "starts with 'whsec_'"),
        (["whsec_not base64!"], "followed by base64"),
        (["whsec_" + base64.b64encode(b"short").decode()], "24 to 64 bytes"),
    ],
)
def test_webhook_signing_secrets_are_checked(secrets: list[str], message: str) -> None:
    assert message in error(WebhookSecrets, {"signing_secrets": secrets})


def test_new_signing_secret_is_valid_and_hidden_from_reprs() -> None:
    fresh = new_signing_secret()
    assert fresh.startswith("whsec_")
    assert len(base64.b64decode(fresh.removeprefix("whsec_"))) == 32
    model = WebhookSecrets(signing_secrets=[fresh, SECRET])
    assert fresh not in repr(model)
    assert fresh != new_signing_secret()


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({f"X-H{i}": "v" for i in range(11)}, "at most 10 items"),
        ({"Host": "evil.test"}, "the Host header is set by callprobe"),
        ({"content-length": "1"}, "set by callprobe"),
        ({"Webhook-Signature": "v1,x"}, "set by callprobe"),
        ({"Bad Name": "v"}, "not a valid header name"),
        ({"X-A": "v\r\nX-B: w"}, "line break"),
        ({"X-A": "1", "x-a": "2"}, "named twice"),
        ({"X-A": "v" * 1025}, "at most 1024 characters"),
    ],
)
def test_webhook_headers_are_bounded(headers: dict[str, str], message: str) -> None:
    secret = new_signing_secret()
    assert message in error(WebhookSecrets, {"signing_secrets": [secret], "headers": headers})


def test_webhook_config_takes_http_urls_and_the_crisp_format() -> None:
    config = WebhookConfig(url="http://10.0.0.5:8080/in", format="crisp")
    assert (config.url, config.format) == ("http://10.0.0.5:8080/in", "crisp")
    assert "absolute http" in error(WebhookConfig, {"url": "/relative/path"})
    assert "'callprobe' or 'crisp'" in error(
        WebhookConfig, {"url": "https://a.test", "format": "x"}
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"token": PUSH_KEY[:-1], "user_key": PUSH_KEY}, "API token is 30 letters"),
        ({"token": PUSH_KEY, "user_key": PUSH_KEY + "x"}, "user or group key is 30"),
        ({"token": PUSH_KEY}, "Field required"),
    ],
)
def test_pushover_keys_are_30_letters_and_digits(data: dict[str, str], message: str) -> None:
    assert message in error(PushoverSecrets, data)


def test_pushover_device_names() -> None:
    assert PushoverConfig(device="phone,tablet_2").device == "phone,tablet_2"
    assert "should match pattern" in error(PushoverConfig, {"device": "my phone"})
