"""SIP parsing, header rewriting, Content-Length, and what a message means for the call."""

from __future__ import annotations

import pytest

from peers.impairment.dialog import Dialog, next_request_uri, opens_call
from peers.impairment.sip_headers import add_via, replace_hostport, rewrite_contacts, strip_via
from peers.impairment.sip_translate import translate
from probes.sip.message import SipMessage, contact_uri, split_values

RELAY = ("127.0.0.1", 5070)
TARGET = ("127.0.0.1", 5080)

SDP = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 4000 RTP/AVP 0\r\n"
)
INVITE = (
    "INVITE sip:echo@127.0.0.1:5070 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5060;rport;branch=z9hG4bKPjabc\r\n"
    "Max-Forwards: 70\r\n"
    'From: "Probe" <sip:probe@127.0.0.1>;tag=a1\r\n'
    "To: <sip:echo@127.0.0.1>\r\n"
    "Contact: <sip:probe@127.0.0.1:5060;ob>\r\n"
    "Call-ID: call-1\r\n"
    "CSeq: 1 INVITE\r\n"
    "Content-Type: application/sdp\r\n"
    f"Content-Length:  {len(SDP)}\r\n"
    "\r\n" + SDP
).encode()
RESPONSE_200 = (
    b"SIP/2.0 200 OK\r\n"
    b"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-cpr-0123;received=127.0.0.1\r\n"
    b"Via: SIP/2.0/UDP 127.0.0.1:5060;rport=5060;branch=z9hG4bKPjabc\r\n"
    b"From: <sip:probe@127.0.0.1>;tag=a1\r\n"
    b"To: <sip:echo@127.0.0.1>;tag=b2\r\n"
    b"Call-ID: call-1\r\n"
    b"CSeq: 1 INVITE\r\n"
    b"Contact: <sip:127.0.0.1:5080;transport=UDP>\r\n"
    b"Content-Length: 0\r\n\r\n"
)


def message(text: str) -> SipMessage:
    return SipMessage.parse(text.encode())


def test_parse_keeps_order_and_unfolds_and_cuts_the_body_at_content_length() -> None:
    parsed = SipMessage.parse(
        b"OPTIONS sip:a@b SIP/2.0\r\nSubject: one\r\n two\r\ni: x\r\nl: 3\r\n\r\nabcdef"
    )

    assert parsed.is_request
    assert parsed.header("subject") == "one two"
    assert parsed.call_id == "x"
    assert parsed.body == b"abc"


def test_serializing_fixes_content_length_after_a_body_change() -> None:
    parsed = SipMessage.parse(INVITE)
    longer = SipMessage(start_line=parsed.start_line, headers=parsed.headers, body=b"v=0\r\n" * 7)

    data = longer.to_bytes()

    assert b"Content-Length: 35\r\n" in data
    assert data.endswith(b"\r\n\r\n" + b"v=0\r\n" * 7)
    assert SipMessage.parse(data) == longer.with_header("Content-Length", ["35"])


def test_serializing_adds_a_missing_content_length() -> None:
    data = message("BYE sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n").to_bytes()

    assert data == b"BYE sip:a@b SIP/2.0\r\nCall-ID: x\r\nContent-Length: 0\r\n\r\n"


def test_response_properties() -> None:
    parsed = SipMessage.parse(RESPONSE_200)

    assert not parsed.is_request
    assert parsed.status == 200
    assert parsed.cseq_method == "INVITE"


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("sip:probe@127.0.0.1:5060;ob", "sip:probe@10.9.9.9:7000;ob"),
        ("sip:127.0.0.1:5080;transport=UDP", "sip:10.9.9.9:7000;transport=UDP"),
        ("sip:alice:secret@example.com", "sip:alice:secret@10.9.9.9:7000"),
        ("sips:bob@[::1]:5061?subject=x", "sips:bob@10.9.9.9:7000?subject=x"),
        ("tel:+15551234", "tel:+15551234"),
    ],
)
def test_replace_hostport(uri: str, expected: str) -> None:
    assert replace_hostport(uri, ("10.9.9.9", 7000)) == expected


@pytest.mark.parametrize(
    ("contact", "uri"),
    [
        ('"A, B" <sip:a@h:1;ob>;expires=60', "sip:a@h:1;ob"),
        ("sip:a@h:1;expires=60", "sip:a@h:1"),
        ("*", None),
    ],
)
def test_contact_uri(contact: str, uri: str | None) -> None:
    assert contact_uri(contact) == uri


def test_split_values_ignores_commas_in_quotes_and_brackets() -> None:
    assert split_values('"A, B" <sip:a@h>, <sip:b@h;x=1,2>') == [
        '"A, B" <sip:a@h>',
        "<sip:b@h;x=1,2>",
    ]


def test_every_contact_is_pointed_at_the_relay_and_the_first_original_returned() -> None:
    parsed = message(
        "REGISTER sip:r SIP/2.0\r\nm: <sip:a@10.0.0.1:5060>, sip:b@10.0.0.2;expires=5\r\n\r\n"
    )

    rewritten, original = rewrite_contacts(parsed, RELAY)

    assert original == "sip:a@10.0.0.1:5060"
    assert rewritten.header_values("contact") == [
        "<sip:a@127.0.0.1:5070>",
        "sip:b@127.0.0.1:5070;expires=5",
    ]
    assert rewritten.headers[0][0] == "m"


def test_wildcard_contact_is_left_alone() -> None:
    parsed = message("REGISTER sip:r SIP/2.0\r\nContact: *\r\n\r\n")

    assert rewrite_contacts(parsed, RELAY) == (parsed, None)


def test_via_added_on_top_with_a_branch_derived_from_the_previous_one() -> None:
    invite = SipMessage.parse(INVITE)
    cancel = SipMessage(
        start_line="CANCEL sip:echo@127.0.0.1:5070 SIP/2.0", headers=invite.headers, body=b""
    )

    vias = add_via(invite, RELAY).header_values("via")

    assert vias[0].startswith("SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-cpr-")
    assert vias[1:] == invite.header_values("via")
    assert add_via(cancel, RELAY).header("via") == vias[0]


def test_only_the_relays_own_via_is_stripped() -> None:
    response = SipMessage.parse(RESPONSE_200)

    stripped = strip_via(response, RELAY)

    assert stripped.header_values("via") == [
        "SIP/2.0/UDP 127.0.0.1:5060;rport=5060;branch=z9hG4bKPjabc"
    ]
    assert strip_via(stripped, RELAY) == stripped


def test_via_stripped_from_a_comma_separated_line() -> None:
    response = message(
        "SIP/2.0 180 Ringing\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-cpr-1,"
        " SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKx\r\n"
        "CSeq: 1 INVITE\r\n\r\n"
    )

    assert strip_via(response, RELAY).header_values("via") == [
        "SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKx"
    ]


def test_invite_translated_for_the_target() -> None:
    invite = SipMessage.parse(INVITE)
    uri = next_request_uri(invite, from_target=False, peer_contact=None, target=TARGET)

    translation = translate(invite, relay=RELAY, request_uri=uri, media_port=40002)
    sent = SipMessage.parse(translation.message.to_bytes())

    assert sent.start_line == "INVITE sip:echo@127.0.0.1:5080 SIP/2.0"
    assert sent.header("contact") == "<sip:probe@127.0.0.1:5070;ob>"
    assert translation.contact == "sip:probe@127.0.0.1:5060;ob"
    assert translation.media is not None
    assert (translation.media.host, translation.media.rtp_port) == ("127.0.0.1", 4000)
    assert b"m=audio 40002 RTP/AVP 0" in sent.body
    assert sent.header("content-length") == str(len(sent.body))


def test_response_translated_for_the_client() -> None:
    translation = translate(
        SipMessage.parse(RESPONSE_200), relay=RELAY, request_uri=None, media_port=40000
    )

    assert translation.message.header("contact") == "<sip:127.0.0.1:5070;transport=UDP>"
    assert translation.contact == "sip:127.0.0.1:5080;transport=UDP"
    assert translation.media is None  # no SDP in this one
    assert len(translation.message.header_values("via")) == 1


@pytest.mark.parametrize(
    ("from_target", "peer_contact", "expected"),
    [
        (False, None, "sip:echo@127.0.0.1:5080"),
        (False, "sip:uas@127.0.0.1:5080;transport=udp", "sip:uas@127.0.0.1:5080;transport=udp"),
        (True, "sip:probe@127.0.0.1:5060;ob", "sip:probe@127.0.0.1:5060;ob"),
        (True, None, "sip:echo@127.0.0.1:5070"),
    ],
)
def test_request_uri_mapped_back_to_the_real_contact(
    from_target: bool, peer_contact: str | None, expected: str
) -> None:
    request = message("BYE sip:echo@127.0.0.1:5070 SIP/2.0\r\nCall-ID: c\r\n\r\n")

    uri = next_request_uri(
        request, from_target=from_target, peer_contact=peer_contact, target=TARGET
    )

    assert uri == expected


def test_dialog_remembers_each_sides_contact() -> None:
    dialog = Dialog(client=("127.0.0.1", 5060))

    dialog.learn_contact("sip:a@client", from_target=False)
    dialog.learn_contact("sip:b@target", from_target=True)
    dialog.learn_contact(None, from_target=True)

    assert dialog.peer_contact(from_target=False) == "sip:b@target"
    assert dialog.peer_contact(from_target=True) == "sip:a@client"


@pytest.mark.parametrize(
    ("messages", "ended"),
    [
        (["SIP/2.0 200 OK|1 INVITE", "BYE sip:x SIP/2.0|2 BYE"], [False, False]),
        (["SIP/2.0 200 OK|1 INVITE", "SIP/2.0 200 OK|2 BYE"], [False, True]),
        (["SIP/2.0 200 OK|1 INVITE", "SIP/2.0 481 No Call|2 BYE"], [False, True]),
        (["SIP/2.0 180 Ringing|1 INVITE", "SIP/2.0 486 Busy Here|1 INVITE"], [False, True]),
        (["SIP/2.0 200 OK|1 INVITE", "SIP/2.0 491 Pending|2 INVITE"], [False, False]),
        (["SIP/2.0 200 OK|1 INVITE", "SIP/2.0 200 OK|2 UPDATE"], [False, False]),
    ],
)
def test_when_a_call_ends(messages: list[str], ended: list[bool]) -> None:
    dialog = Dialog(client=("127.0.0.1", 5060))
    parsed = [
        message(f"{start}\r\nCSeq: {cseq}\r\n\r\n")
        for start, cseq in (text.split("|") for text in messages)
    ]

    assert [dialog.ends_with(each) for each in parsed] == ended


@pytest.mark.parametrize(
    ("text", "opens"),
    [
        ("INVITE sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n", True),  # late offer
        ("OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n", False),
        ("SIP/2.0 200 OK\r\nCSeq: 1 OPTIONS\r\n\r\n", False),
        (f"SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\nc: application/sdp\r\n\r\n{SDP}", True),
    ],
)
def test_which_messages_open_a_call(text: str, opens: bool) -> None:
    assert opens_call(message(text)) is opens
