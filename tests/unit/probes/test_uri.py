"""SIP URIs are validated before anything is dialled."""

from __future__ import annotations

import pytest

from probes.sip.uri import InvalidSipUri, parse_sip_uri


@pytest.mark.parametrize(
    ("text", "transport", "expected"),
    [
        ("sip:echo@127.0.0.1:5080", None, "sip:echo@127.0.0.1:5080"),
        ("sip:127.0.0.1", None, "sip:127.0.0.1"),
        ("SIP:alice@pbx.example.com", None, "sip:alice@pbx.example.com"),
        ("sip:echo@127.0.0.1:5080;transport=tcp", None, "sip:echo@127.0.0.1:5080;transport=tcp"),
        ("sip:echo@127.0.0.1:5080;transport=TCP", "udp", "sip:echo@127.0.0.1:5080"),
        ("sip:echo@127.0.0.1", "tcp", "sip:echo@127.0.0.1;transport=tcp"),
        ("sip:+15551234@[::1]:5060", None, "sip:+15551234@[::1]:5060"),
        ("  sip:echo@host  ", None, "sip:echo@host"),
    ],
)
def test_valid_uris(text: str, transport: str | None, expected: str) -> None:
    assert str(parse_sip_uri(text, transport)) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "must start with 'sip:'"),
        ("echo@127.0.0.1", "must start with 'sip:'"),
        ("sips:echo@127.0.0.1", "must start with 'sip:'"),
        ("http://example.com", "must start with 'sip:'"),
        ("sip:", "invalid host"),
        ("sip:echo@", "invalid host"),
        ("sip:echo@host:0", "port"),
        ("sip:echo@host:70000", "port"),
        ("sip:echo@host:abc", "port"),
        ("sip:echo@ho st", "invalid host"),
        ("sip:echo@-bad-.com", "invalid host"),
        ("sip:ec ho@host", "user part"),
        ("sip:echo@host;transport=sctp", "transport"),
        ("sip:echo@[::1", "unterminated"),
    ],
)
def test_malformed_uris_are_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(InvalidSipUri, match=message):
        parse_sip_uri(text)


def test_unknown_transport_override_is_refused() -> None:
    with pytest.raises(InvalidSipUri, match="transport 'tls'"):
        parse_sip_uri("sip:echo@host", "tls")
