"""SDP rewriting: the audio stream points at the relay, the original endpoint is returned."""

from __future__ import annotations

import pytest

from peers.impairment.sdp_rewrite import rewrite_sdp
from probes.sip.sdp import MediaEndpoint

PJSUA_OFFER = "\r\n".join(
    [
        "v=0",
        "o=- 3915267034 3915267034 IN IP4 127.0.0.1",
        "s=pjmedia",
        "b=AS:84",
        "t=0 0",
        "a=X-nat:0",
        "m=audio 4000 RTP/AVP 0 8 9 101",
        "c=IN IP4 127.0.0.1",
        "b=TIAS:64000",
        "a=rtcp:4001 IN IP4 127.0.0.1",
        "a=sendrecv",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:9 G722/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-16",
        "a=ssrc:1196412838 cname:5c6b1d7e1b0a0b3c",
        "",
    ]
)
PJSUA_REWRITTEN = (
    PJSUA_OFFER.replace("m=audio 4000", "m=audio 40000")
    .replace("c=IN IP4 127.0.0.1", "c=IN IP4 127.0.0.9")
    .replace("a=rtcp:4001 IN IP4 127.0.0.1", "a=rtcp:40001 IN IP4 127.0.0.9")
)

SIPP_ANSWER = "\r\n".join(
    [
        "v=0",
        "o=user1 53655765 2353687637 IN IP4 127.0.0.1",
        "s=-",
        "c=IN IP4 127.0.0.1",
        "t=0 0",
        "m=audio 6000 RTP/AVP 0",
        "a=rtpmap:0 PCMU/8000",
        "",
    ]
)
SIPP_REWRITTEN = SIPP_ANSWER.replace("c=IN IP4 127.0.0.1", "c=IN IP4 127.0.0.9").replace(
    "m=audio 6000", "m=audio 40000"
)

RTCP_WITHOUT_ADDRESS = (
    "v=0\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\nm=audio 7078 RTP/AVP 0\r\na=rtcp:7079\r\n"
)
VIDEO_FIRST = "\r\n".join(
    [
        "v=0",
        "c=IN IP4 10.0.0.5",
        "t=0 0",
        "m=video 9000 RTP/AVP 96",
        "c=IN IP4 10.0.0.6",
        "m=audio 8000 RTP/AVP 8",
        "",
    ]
)
UNIX_NEWLINES = "v=0\nc=IN IP4 10.1.1.1\nt=0 0\nm=audio 5004/2 RTP/AVP 0\n"


@pytest.mark.parametrize(
    ("body", "expected_body", "original"),
    [
        pytest.param(
            PJSUA_OFFER,
            PJSUA_REWRITTEN,
            MediaEndpoint(host="127.0.0.1", rtp_port=4000, rtcp_host="127.0.0.1", rtcp_port=4001),
            id="pjsua offer: media-level c=, a=rtcp with address",
        ),
        pytest.param(
            SIPP_ANSWER,
            SIPP_REWRITTEN,
            MediaEndpoint(host="127.0.0.1", rtp_port=6000, rtcp_host="127.0.0.1", rtcp_port=6001),
            id="sipp answer: session-level c=, RTCP on port + 1",
        ),
        pytest.param(
            RTCP_WITHOUT_ADDRESS,
            RTCP_WITHOUT_ADDRESS.replace("10.0.0.5", "127.0.0.9")
            .replace("7078", "40000")
            .replace("7079", "40001"),
            MediaEndpoint(host="10.0.0.5", rtp_port=7078, rtcp_host="10.0.0.5", rtcp_port=7079),
            id="a=rtcp with a port only",
        ),
        pytest.param(
            VIDEO_FIRST,
            VIDEO_FIRST.replace("c=IN IP4 10.0.0.5", "c=IN IP4 127.0.0.9").replace(
                "m=audio 8000", "m=audio 40000"
            ),
            MediaEndpoint(host="10.0.0.5", rtp_port=8000, rtcp_host="10.0.0.5", rtcp_port=8001),
            id="audio after video: the video's own c= is left alone",
        ),
        pytest.param(
            UNIX_NEWLINES,
            "v=0\nc=IN IP4 127.0.0.9\nt=0 0\nm=audio 40000/2 RTP/AVP 0\n",
            MediaEndpoint(host="10.1.1.1", rtp_port=5004, rtcp_host="10.1.1.1", rtcp_port=5005),
            id="LF line endings and a port count",
        ),
    ],
)
def test_rewrite_points_audio_at_the_relay(
    body: str, expected_body: str, original: MediaEndpoint
) -> None:
    rewrite = rewrite_sdp(body, host="127.0.0.9", rtp_port=40000)

    assert rewrite is not None
    assert rewrite.body == expected_body
    assert rewrite.original == original


def test_rtcp_attribute_with_another_address_is_remembered() -> None:
    body = "v=0\r\nc=IN IP4 10.0.0.5\r\nm=audio 7078 RTP/AVP 0\r\na=rtcp:9999 IN IP4 10.0.0.7\r\n"

    rewrite = rewrite_sdp(body, host="127.0.0.9", rtp_port=40000)

    assert rewrite is not None
    assert rewrite.original.rtcp_host == "10.0.0.7"
    assert rewrite.original.rtcp_port == 9999
    assert "a=rtcp:40001 IN IP4 127.0.0.9" in rewrite.body


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("v=0\r\nc=IN IP4 10.0.0.5\r\nm=video 9000 RTP/AVP 96\r\n", id="no audio"),
        pytest.param("v=0\r\nc=IN IP4 10.0.0.5\r\nm=audio 0 RTP/AVP 0\r\n", id="audio rejected"),
        pytest.param("v=0\r\nt=0 0\r\nm=audio 7078 RTP/AVP 0\r\n", id="no connection line"),
        pytest.param("v=0\r\nc=IN IP4 10.0.0.5\r\nm=audio x RTP/AVP 0\r\n", id="bad port"),
    ],
)
def test_nothing_to_relay(body: str) -> None:
    assert rewrite_sdp(body, host="127.0.0.9", rtp_port=40000) is None
