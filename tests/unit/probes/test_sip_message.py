"""The one SIP message parser: hostile bytes raise only SipParseError, readers never raise."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from probes.sip.heard import Heard
from probes.sip.message import SipMessage, SipParseError, contact_uri

REDIRECT = (
    b"SIP/2.0 302 Moved\r\n"
    b"v: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKx\r\n"
    b"i: c1\r\n"
    b"CSeq: 1 INVITE\r\n"
    b'm: "Desk, 2" <sip:desk@10.0.0.2:5060>;expires=60, <sip:b@10.0.0.3>\r\n'
    b"Content-Length: 0\r\n\r\n"
)


@given(st.binary(max_size=2000))
def test_no_bytes_crash_the_parser_or_its_readers(data: bytes) -> None:
    with contextlib.suppress(SipParseError):
        message = SipMessage.parse(data)
        assert (message.method, message.status, message.reason) is not None
        assert (message.cseq_method, message.call_id, message.branch) is not None
        assert message.carries_sdp in (True, False)
        assert SipMessage.parse(message.to_bytes()).start_line == message.start_line


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello world\r\n\r\n",
        b"SIP/2.0 abc OK\r\n\r\n",
        b"INVITE sip:a SIP/2.0\r\nbad\r\n\r\n",
        b"SIP/2.0 700 Odd\r\n\r\n",
        b"SIP/2.0 99 Odd\r\n\r\n",
        b"INVITE sip:a@b SIP/2.0\r\nCall ID: x\r\n\r\n",
        b"INVITE sip:a@b SIP/2.0\r\n: x\r\n\r\n",
    ],
)
def test_not_sip_is_refused(data: bytes) -> None:
    with pytest.raises(SipParseError):
        SipMessage.parse(data)


def test_compact_forms_and_the_top_via_branch_are_read() -> None:
    message = SipMessage.parse(REDIRECT)

    assert (message.status, message.reason, message.cseq_method) == (302, "Moved", "INVITE")
    assert message.branch == "z9hG4bKx"
    assert message.call_id == "c1"
    assert contact_uri(message.header("contact") or "") == "sip:desk@10.0.0.2:5060"


@pytest.mark.parametrize(
    ("data", "length"),
    [
        (b"BYE sip:a@b SIP/2.0\r\nl: \xc2\xb2\r\n\r\nabc", 3),  # a superscript two is no length
        (b"BYE sip:a@b SIP/2.0\nContent-Length: 2\n\nabc", 2),  # LF-only line ends
    ],
)
def test_content_length_is_used_only_when_it_is_a_number(data: bytes, length: int) -> None:
    assert len(SipMessage.parse(data).body) == length


def test_missing_cseq_and_unclosed_contact_do_not_raise() -> None:
    message = SipMessage.parse(b"SIP/2.0 302 Moved\r\nContact: <sip:a@b\r\n\r\n")

    assert message.cseq_method == ""
    assert contact_uri(message.header("contact") or "") == "sip:a@b"


def test_heard_keeps_the_redirect_target_without_display_name_or_parameters() -> None:
    heard = Heard()

    heard.receive(REDIRECT.decode(), at=1.0)

    assert (heard.final_status, heard.final_reason) == (302, "Moved")
    assert heard.redirect_to == "sip:desk@10.0.0.2:5060"
