"""The agent talks to its API over HTTPS, or plain HTTP on loopback only unless told,
and scrubs a run's secret from the result it posts or spools."""

from __future__ import annotations

import pytest

from probes.agent import InsecureApiUrl, check_api_url, redacted
from probes.result import CallResult, Outcome


@pytest.mark.parametrize(
    "url",
    [
        "https://probes.example.net",
        "https://10.0.0.5:8443/",
        "http://127.0.0.1:8080",
        "http://127.9.9.9",
        "http://localhost:8080",
        "http://[::1]:8080",
    ],
)
def test_https_anywhere_and_http_on_loopback_pass(url: str) -> None:
    check_api_url(url)


@pytest.mark.parametrize(
    "url", ["http://probes.example.net", "http://10.0.0.5:8080", "http://[2001:db8::1]"]
)
def test_plain_http_off_loopback_is_refused_unless_allowed(url: str) -> None:
    with pytest.raises(InsecureApiUrl, match="refusing plain-HTTP API URL"):
        check_api_url(url)
    check_api_url(url, allow_insecure_http=True)


@pytest.mark.parametrize("url", ["ftp://probes.example.net", "probes.example.net", "https://"])
def test_other_urls_are_refused_even_when_http_is_allowed(url: str) -> None:
    with pytest.raises(InsecureApiUrl, match="must be https://"):
        check_api_url(url, allow_insecure_http=True)


def test_a_secret_is_scrubbed_from_result_text_but_not_from_identity_fields() -> None:
    result = CallResult(
        kind="sip_register",
        target="sip:pbx.example.net",
        outcome=Outcome.REGISTER_FAILED,
        sip_reason="Forbidden sip",
        error="REGISTER refused: 403 Forbidden sip",
    )
    clean = redacted(result, "sip")
    assert clean.sip_reason == "Forbidden [redacted]" and "sip" not in (clean.error or "")
    assert (clean.run_id, clean.kind, clean.outcome) == (
        result.run_id,
        "sip_register",
        result.outcome,
    )
    assert redacted(result, None) is result
