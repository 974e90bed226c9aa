"""Misbehaving far ends (real SIPp scenarios) are reported as what happened on the wire.

Each test reads SIPp's own message trace to check what we sent (ACK, BYE), and
checks that nothing pjsua2 made up locally (406, 487) is stored as the far end's
answer, and that a call without audio carries no loss, jitter or score.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from probes.result import CallResult, Outcome
from tests.acceptance.conftest import PEERS, CallRunner, Peer, sipp, start_peer, stop

pytestmark = pytest.mark.sip

SCENARIOS = PEERS / "sipp"
PCMU = "0\n      a=rtpmap:0 PCMU/8000"


@dataclass(frozen=True)
class TracedPeer:
    """A one-call SIPp peer whose received and sent messages are traced to a file."""

    peer: Peer
    trace: Path

    def received(self, method: str) -> bool:
        """True when SIPp received a ``method`` request from us."""
        return f"\n{method} sip:" in self.trace.read_text(errors="replace")

    def exit_code(self, timeout: float = 5.0) -> int | None:
        try:
            return self.peer.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None


def _scenario(tmp_path: Path, name: str, **values: str) -> Path:
    text = (SCENARIOS / name).read_text()
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    path = tmp_path / name
    path.write_text(text)
    return path


Start = Callable[..., TracedPeer]


@pytest.fixture
def traced(tmp_path: Path) -> Iterator[Start]:
    """Start a traced SIPp UAS: ``traced(port, scenario, *extra_args)``."""
    started: list[TracedPeer] = []

    def start(port: int, scenario: Path | None, *args: str) -> TracedPeer:
        trace = tmp_path / f"sipp-{port}.msg"
        script = ["-sf", str(scenario)] if scenario else ["-sn", "uas"]
        command = sipp(
            port,
            36000 + 10 * (port - 5000),
            *script,
            *args,
            "-trace_msg",
            "-message_file",
            str(trace),
        )
        uri = f"sip:probe@127.0.0.1:{port}"
        peer = TracedPeer(
            peer=Peer(uri=uri, port=port, proc=start_peer(command, port)), trace=trace
        )
        started.append(peer)
        return peer

    yield start
    for peer in started:
        stop(peer.peer.proc)


def _no_media_numbers(result: CallResult) -> None:
    assert result.rx_loss_pct is None and result.jitter_ms is None
    assert result.pesq_mos is None and result.r_factor is None and result.emodel_mos is None


def test_a_200_without_sdp_is_a_failed_negotiation_not_a_406(
    engine_runner: CallRunner, traced: Start, tmp_path: Path
) -> None:
    peer = traced(5310, SCENARIOS / "answer_without_sdp.xml", "-m", "1")
    result = engine_runner.call(target=peer.peer.uri, talk_s=4)
    assert result.outcome is Outcome.NEGOTIATION_FAILED
    assert (result.sip_status, result.sip_reason) == (200, "OK")
    assert result.error is not None and "no SDP" in result.error
    assert result.ended_by == "probe"
    assert peer.exit_code() == 0  # the scenario got our ACK and our BYE
    assert peer.received("ACK") and peer.received("BYE")
    _no_media_numbers(result)


def test_an_answer_with_no_offered_codec_names_the_far_ends_codecs(
    engine_runner: CallRunner, traced: Start, tmp_path: Path
) -> None:
    scenario = _scenario(tmp_path, "answer_with_sdp.xml", MEDIA="18\n      a=rtpmap:18 G729/8000")
    peer = traced(5311, scenario, "-m", "1")
    started = time.monotonic()
    result = engine_runner.call(target=peer.peer.uri, talk_s=6)
    assert time.monotonic() - started < 3  # ended at once, not after the talk time
    assert result.outcome is Outcome.NEGOTIATION_FAILED
    assert result.sip_status == 200
    assert result.answer_codecs == "G729/8000"
    assert result.error == "the far end answered with G729/8000; we offered only PCMU"
    assert peer.received("BYE")
    _no_media_numbers(result)


def test_a_redirect_is_reported_with_its_target_and_not_followed_by_default(
    engine_runner: CallRunner, traced: Start, tmp_path: Path
) -> None:
    scenario = _scenario(tmp_path, "redirect.xml", TARGET="sip:probe@127.0.0.1:5312")
    peer = traced(5312, scenario, "-m", "1")
    result = engine_runner.call(target=peer.peer.uri, talk_s=4)
    assert result.outcome is Outcome.REDIRECTED
    assert (result.sip_status, result.sip_reason) == (302, "Moved Temporarily")
    assert result.redirect_to == "sip:probe@127.0.0.1:5312"
    assert "following redirects is off" in (result.error or "")
    assert peer.received("ACK")


def test_a_redirect_loop_is_detected_and_named_when_following(
    engine_runner: CallRunner, traced: Start, tmp_path: Path
) -> None:
    scenario = _scenario(tmp_path, "redirect.xml", TARGET="sip:probe@127.0.0.1:5313")
    peer = traced(5313, scenario)
    result = engine_runner.call(target=peer.peer.uri, talk_s=4, max_redirects=3)
    assert result.outcome is Outcome.REDIRECTED
    assert result.sip_status == 302
    assert result.error is not None and result.error.startswith("redirect loop: ")
    assert "sip:probe@127.0.0.1:5313" in result.error


def test_a_followed_redirect_reaches_the_target_that_answers(
    engine_runner: CallRunner, traced: Start, tmp_path: Path, sipp_echo: Peer
) -> None:
    scenario = _scenario(tmp_path, "redirect.xml", TARGET=sipp_echo.uri)
    peer = traced(5314, scenario)
    result = engine_runner.call(target=peer.peer.uri, talk_s=4, max_redirects=1)
    assert result.outcome is Outcome.OK
    assert result.sip_status == 200
    assert result.pesq_mos is not None and result.pesq_mos > 3.5


def test_a_call_the_far_end_drops_early_is_dropped_and_not_scored(
    engine_runner: CallRunner, traced: Start, tmp_path: Path
) -> None:
    scenario = _scenario(tmp_path, "drop_after_answer.xml", AFTER_MS="2000")
    peer = traced(5315, scenario, "-rtp_echo", "-m", "1")
    result = engine_runner.call(target=peer.peer.uri, talk_s=8)
    assert result.outcome is Outcome.DROPPED
    assert result.ended_by == "far_end"
    assert result.dropped_after_ms is not None and 1900 < result.dropped_after_ms < 2600
    assert result.end_reason == 'Q.850;cause=41;text="Temporary failure"'
    assert result.rx_packets is not None and result.rx_packets >= 90  # what flowed is measured
    assert result.rx_loss_pct == 0.0
    assert result.pesq_mos is None and result.emodel_mos is None  # too little to score
    assert result.error is not None and "not scored: under 4 s of audio" in result.error
    assert peer.exit_code() == 0  # our 200 OK answered its BYE


def test_a_call_dropped_after_enough_audio_is_scored_on_what_flowed(
    engine_runner: CallRunner, traced: Start, tmp_path: Path
) -> None:
    scenario = _scenario(tmp_path, "drop_after_answer.xml", AFTER_MS="6000")
    peer = traced(5316, scenario, "-rtp_echo", "-m", "1")
    result = engine_runner.call(target=peer.peer.uri, talk_s=10)
    assert result.outcome is Outcome.DROPPED
    assert result.dropped_after_ms is not None and 5900 < result.dropped_after_ms < 6600
    # SIPp echoes bit-exactly: the first 6 s score near the G.711 ceiling.
    assert result.pesq_mos is not None and result.pesq_mos > 3.8
    assert result.emodel_mos is not None and result.emodel_mos > 4.0


def test_a_call_with_no_rtp_has_no_loss_no_jitter_and_no_score(
    engine_runner: CallRunner, traced: Start
) -> None:
    peer = traced(5317, None)
    result = engine_runner.call(target=peer.peer.uri, talk_s=4)
    assert result.outcome is Outcome.NO_AUDIO
    assert result.sip_status == 200
    assert result.rx_packets == 0
    assert result.audio_failed == "inbound"
    assert result.error == "no audio received: no RTP packet arrived"
    _no_media_numbers(result)


@pytest.mark.parametrize(
    ("direction", "failed"), [("sendonly", "both"), ("inactive", "both"), ("recvonly", "inbound")]
)
def test_an_answer_on_hold_names_its_media_direction_and_ends_on_time(
    engine_runner: CallRunner, traced: Start, tmp_path: Path, direction: str, failed: str
) -> None:
    scenario = _scenario(tmp_path, "answer_with_sdp.xml", MEDIA=f"{PCMU}\n      a={direction}")
    peer = traced(5318, scenario, "-m", "1")
    started = time.monotonic()
    result = engine_runner.call(target=peer.peer.uri, talk_s=4)
    assert time.monotonic() - started < 4 + 3
    assert result.outcome is Outcome.NO_AUDIO
    assert result.media_direction == direction
    assert result.audio_failed == failed
    assert result.error is not None and f"a={direction}" in result.error
    assert peer.exit_code() == 0
    _no_media_numbers(result)
