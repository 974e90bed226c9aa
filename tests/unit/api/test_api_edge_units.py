"""Pure pieces of the HTTP edge: client keys behind proxies, access-log redaction, settings."""

from __future__ import annotations

import logging
from ipaddress import ip_network

import pytest
from pydantic import ValidationError
from starlette.requests import HTTPConnection

from api.middleware.access_log import RedactPushTokens, log_config, redact
from api.middleware.client_address import client_key
from api.settings import Settings

TRUSTED = [ip_network("10.0.0.0/8"), ip_network("fd00::/8")]


def _key(peer: str, *forwarded: str) -> str:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return client_key(
        HTTPConnection({"type": "http", "client": (peer, 1), "headers": headers}), TRUSTED
    )


@pytest.mark.parametrize(
    ("peer", "forwarded", "key"),
    [
        ("203.0.113.9", (), "203.0.113.9"),
        ("203.0.113.9", ("1.1.1.1",), "203.0.113.9"),  # not a trusted proxy: ignored
        ("10.0.0.2", (), "10.0.0.2"),
        ("10.0.0.2", ("198.51.100.1",), "198.51.100.1"),
        ("10.0.0.2", ("6.6.6.6, 198.51.100.1",), "198.51.100.1"),  # left of the client: forged
        ("10.0.0.2", ("198.51.100.1, 10.0.0.7",), "198.51.100.1"),  # a chain of trusted proxies
        ("10.0.0.2", ("6.6.6.6", "198.51.100.1"), "198.51.100.1"),  # repeated headers, in order
        ("10.0.0.2", ("garbage, 198.51.100.1",), "198.51.100.1"),
        ("10.0.0.2", ("198.51.100.1, garbage",), "10.0.0.2"),  # the proxy wrote nonsense
        ("10.0.0.2", ("2001:db8:1:2::99",), "2001:db8:1:2::/64"),
        ("2001:db8:1:2::1", (), "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", (), "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", (), "2001:db8:1:3::/64"),
        ("::ffff:203.0.113.9", (), "203.0.113.9"),
        ("fd00::5", ("203.0.113.9",), "203.0.113.9"),
        ("testclient", ("1.1.1.1",), "testclient"),
    ],
)
def test_client_keys_trust_forwarded_for_only_from_proxies(
    peer: str, forwarded: tuple[str, ...], key: str
) -> None:
    assert _key(peer, *forwarded) == key


def test_no_peer_at_all_is_one_unknown_client() -> None:
    assert client_key(HTTPConnection({"type": "http", "headers": []}), TRUSTED) == "unknown"


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/v1/push/cpp_abc-DEF_123", "/v1/push/[redacted]"),
        ("/v1/push/cpp_abc?cpu=1", "/v1/push/[redacted]?cpu=1"),
        ("/v1/%70ush/cpp_abc", "/v1/push/[redacted]"),
        ("/v1/push", "/v1/push"),
        ("/v1/probes/x", "/v1/probes/x"),
    ],
)
def test_push_tokens_are_redacted_from_request_paths(path: str, logged: str) -> None:
    assert redact(path) == logged


def test_the_filter_rewrites_uvicorns_access_record() -> None:
    args = ("127.0.0.1:5000", "POST", "/v1/push/cpp_secret", "1.1", 202)
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d', args, None
    )
    assert RedactPushTokens().filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "POST /v1/push/[redacted] HTTP/1.1" 202'
    config = log_config()
    assert "redact_push_tokens" in config["loggers"]["uvicorn.access"]["filters"]


def test_trusted_proxies_are_a_comma_separated_cidr_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLPROBE_TRUSTED_PROXIES", "10.0.0.0/8, fd00::/8")
    assert Settings(database_url="unused").trusted_proxies == TRUSTED
    assert Settings(database_url="unused", trusted_proxies="").trusted_proxies == []
    with pytest.raises(ValidationError, match="trusted_proxies"):
        Settings(database_url="unused", trusted_proxies="10.0.0.1/8")
    with pytest.raises(ValueError, match="not a rate such as"):
        Settings(database_url="unused", auth_fail_rate="lots")
