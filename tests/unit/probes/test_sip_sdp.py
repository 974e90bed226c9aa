"""The one SDP reader: the first audio section's codecs, direction and receive address."""

from __future__ import annotations

import pytest

from probes.sip.sdp import MediaEndpoint, Sdp, sdp_codecs, sdp_direction

ANSWER = "\r\n".join(
    [
        "v=0",
        "c=IN IP4 10.0.0.5",
        "a=sendonly",
        "m=video 9000 RTP/AVP 96",
        "a=rtpmap:96 H264/90000",
        "m=audio 7078 RTP/AVP 8 0 101",
        "a=rtpmap:101 telephone-event/8000",
        "a=rtcp:7081",
        "m=audio 7090 RTP/AVP 9",
        "a=inactive",
        "",
    ]
)


def test_codecs_of_the_first_audio_section_static_types_named_events_left_out() -> None:
    assert sdp_codecs(ANSWER) == ("PCMA/8000", "PCMU/8000")


@pytest.mark.parametrize(
    ("sdp", "direction"),
    [
        (ANSWER, "sendonly"),  # the session level applies: the audio section says nothing
        (ANSWER.replace("a=rtcp:7081", "a=recvonly"), "recvonly"),
        ("v=0\r\nm=audio 4000 RTP/AVP 0\r\n", "sendrecv"),
        ("", "sendrecv"),
    ],
)
def test_direction(sdp: str, direction: str) -> None:
    assert sdp_direction(sdp) == direction


def test_where_the_first_audio_is_received() -> None:
    sdp = Sdp.parse(ANSWER)
    audio = sdp.audio()

    assert audio is not None
    assert sdp.endpoint(audio) == MediaEndpoint(
        host="10.0.0.5", rtp_port=7078, rtcp_host="10.0.0.5", rtcp_port=7081
    )


@pytest.mark.parametrize("text", ["", "m=", "m=audio", "m=audio \u00b2 RTP/AVP", "garbage\n\n"])
def test_malformed_sdp_finds_nothing_rather_than_raising(text: str) -> None:
    sdp = Sdp.parse(text)

    assert sdp.audio(active=True) is None
    assert sdp_codecs(text) == ()
