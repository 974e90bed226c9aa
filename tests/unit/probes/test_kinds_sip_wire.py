"""SIP message building and hostile-peer-proof response parsing."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from probes.kinds.sip_wire import (
    Channel,
    Dialog,
    MalformedResponse,
    build_request,
    new_branch,
    parse_response,
)

OK = (
    b"SIP/2.0 200 OK\r\n"
    b"v: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc;rport=5070\r\n"
    b"From: <sip:callprobe@127.0.0.1>;tag=1\r\n"
    b"To: <sip:x@127.0.0.1>;tag=2\r\n"
    b"i: call-1\r\n"
    b"CSeq: 1 OPTIONS\r\n"
    b"Allow: INVITE,\r\n ACK\r\n"
    b"l: 0\r\n\r\n"
)


def test_a_response_with_compact_and_folded_headers_parses() -> None:
    response = parse_response(OK)
    assert (response.status, response.reason) == (200, "OK")
    assert response.branch == "z9hG4bKabc"
    assert response.header("call-id") == "call-1"
    assert response.header("allow") == "INVITE, ACK"
    assert response.header("content-length") == "0"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "bad status line"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"HTTP/1.1 200 OK\r\n\r\n", "bad status line"),
        (b"SIP/2.0 99 Odd\r\n\r\n", "bad status line"),
        (b"SIP/2.0 700 Odd\r\n\r\n", "bad status line"),
        (b"SIP/2.0 200 OK\r\nno colon here\r\n\r\n", "bad header line"),
        (b"SIP/2.0 200 OK\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n", "no via"),
        (b"INVITE sip:a@b SIP/2.0\r\n\r\n", "bad status line"),
    ],
)
def test_garbage_is_a_malformed_response(data: bytes, message: str) -> None:
    with pytest.raises(MalformedResponse, match=message):
        parse_response(data)


@given(st.binary(max_size=2000))
def test_no_bytes_crash_the_parser(data: bytes) -> None:
    with contextlib.suppress(MalformedResponse):
        parse_response(data)


def test_reason_phrases_are_printable_and_bounded() -> None:
    data = OK.replace(b"200 OK", b"200 O\x1bK" + b"x" * 500)
    reason = parse_response(data).reason
    assert reason.isprintable() and len(reason) == 200


def test_requests_carry_the_rfc3261_mandatory_headers() -> None:
    dialog = Dialog(
        request_uri="sip:pbx.example.com",
        from_uri="sip:callprobe@10.0.0.1",
        to_uri="sip:pbx.example.com",
        call_id="c1",
        from_tag="t1",
    )
    branch = new_branch()
    channel = Channel("tcp", ("10.0.0.1", 40000))
    text = build_request("OPTIONS", dialog, channel, cseq=7, branch=branch).decode()
    lines = text.split("\r\n")
    assert lines[0] == "OPTIONS sip:pbx.example.com SIP/2.0"
    assert f"Via: SIP/2.0/TCP 10.0.0.1:40000;branch={branch};rport" in lines
    assert branch.startswith("z9hG4bK") and len(branch) > 7 + 8
    for header in ("Max-Forwards: 70", "From: <sip:callprobe@10.0.0.1>;tag=t1",
                   "To: <sip:pbx.example.com>", "Call-ID: c1", "CSeq: 7 OPTIONS",
                   "Contact: <sip:callprobe@10.0.0.1:40000;transport=tcp>"):  # fmt: skip
        assert header in lines
    assert text.endswith("Content-Length: 0\r\n\r\n")
