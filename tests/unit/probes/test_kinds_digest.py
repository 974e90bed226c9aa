"""Digest authentication for the REGISTER check (RFC 2617 / RFC 7616, MD5)."""

from __future__ import annotations

import pytest

from probes.kinds.sip_register import Challenge, ChallengeError, digest_response, parse_challenge


def test_rfc2617_section_3_5_example() -> None:
    header = (
        'Digest realm="testrealm@host.com", qop="auth,auth-int", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    challenge = parse_challenge(header)
    assert challenge == Challenge(
        realm="testrealm@host.com",
        nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
        opaque="5ccc069c403ebaf9f0171e9517f40e41",
        qop_auth=True,
    )
    credentials = digest_response(
        challenge,
        method="GET",
        uri="/dir/index.html",
        username="Mufasa",
        password="Circle Of Life",
        cnonce="0a4f113b",
    )
    assert 'response="6629fae49393a05397450978507c4ef1"' in credentials
    assert "nc=00000001" in credentials and "qop=auth" in credentials
    assert 'opaque="5ccc069c403ebaf9f0171e9517f40e41"' in credentials


def test_without_qop_the_rfc2069_form_is_used() -> None:
    challenge = parse_challenge('Digest realm="r", nonce="n"')
    credentials = digest_response(
        challenge, method="REGISTER", uri="sip:r", username="u", password="p", cnonce="c"
    )
    # MD5(MD5("u:r:p") ":" "n" ":" MD5("REGISTER:sip:r")), computed independently
    assert 'response="5790559ba44538767b07fb5adb649909"' in credentials
    assert "qop" not in credentials and "nc=" not in credentials


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ('Basic realm="r"', "unsupported auth scheme"),
        ('Digest realm="r", nonce="n", algorithm=SHA-512-256', "unsupported digest algorithm"),
        ('Digest realm="r"', "without realm or nonce"),
    ],
)
def test_challenges_we_cannot_answer_are_refused(header: str, message: str) -> None:
    with pytest.raises(ChallengeError, match=message):
        parse_challenge(header)
