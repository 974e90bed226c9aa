"""Hostile and unreachable peers give clear results, never crashes."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from probes.result import Outcome
from tests.acceptance.conftest import PEERS, CallRunner, Peer, sipp, start_peer, stop

pytestmark = pytest.mark.sip


@pytest.fixture(
    params=[(486, "Busy Here"), (503, "Service Unavailable"), (488, "Not Acceptable Here")]
)
def rejecting_peer(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Peer, int]]:
    code, reason = request.param
    template = (PEERS / "sipp" / "reject.xml").read_text()
    scenario = tmp_path / "reject.xml"
    scenario.write_text(template.replace("@CODE@", str(code)).replace("@REASON@", reason))
    command = sipp(5291, 36100, "-sf", str(scenario))
    proc = start_peer(command, 5291)
    yield Peer(uri="sip:busy@127.0.0.1:5291", port=5291, proc=proc), code
    stop(proc)


def test_final_error_answers_are_reported(
    engine_runner: CallRunner, rejecting_peer: tuple[Peer, int]
) -> None:
    peer, code = rejecting_peer
    result = engine_runner.call(target=peer.uri, talk_s=5)
    assert result.outcome is Outcome.SIP_ERROR
    assert result.sip_status == code
    assert result.error is not None and str(code) in result.error
    assert result.pesq_mos is None and result.rx_packets is None


@pytest.fixture
def ringing_peer() -> Iterator[Peer]:
    command = sipp(5292, 36200, "-sf", str(PEERS / "sipp" / "ring_forever.xml"))
    proc = start_peer(command, 5292)
    yield Peer(uri="sip:ring@127.0.0.1:5292", port=5292, proc=proc)
    stop(proc)


def test_ringing_forever_hits_the_setup_timeout(
    engine_runner: CallRunner, ringing_peer: Peer
) -> None:
    started = time.monotonic()
    result = engine_runner.call(target=ringing_peer.uri, setup_timeout_s=3, talk_s=5)
    elapsed = time.monotonic() - started
    assert result.outcome is Outcome.SETUP_TIMEOUT
    assert result.sip_status is None
    assert result.pdd_ms is not None and result.pdd_ms < 1000  # the 180 arrived
    assert result.provisional_status == 180
    assert result.error is not None and result.error.startswith(
        "no final answer within 3 s; it rang (180) after"
    )
    assert elapsed < 3 + 2


def test_a_target_that_never_answers_times_out_within_two_seconds(
    engine_runner: CallRunner,
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as blackhole:
        blackhole.bind(("127.0.0.1", 0))
        port = blackhole.getsockname()[1]
        started = time.monotonic()
        result = engine_runner.call(
            target=f"sip:void@127.0.0.1:{port}", setup_timeout_s=4, talk_s=5
        )
        elapsed = time.monotonic() - started
    assert result.outcome is Outcome.SETUP_TIMEOUT
    assert result.pdd_ms is None and result.provisional_status is None
    assert result.error == "no final answer within 4 s; no response at all, not even 100 Trying"
    assert elapsed < 4 + 2


def test_a_peer_that_answers_without_media_is_no_audio(engine_runner: CallRunner) -> None:
    proc = start_peer(sipp(5293, 36300, "-sn", "uas"), 5293)
    try:
        result = engine_runner.call(target="sip:mute@127.0.0.1:5293", talk_s=4)
    finally:
        stop(proc)
    assert result.outcome is Outcome.NO_AUDIO
    assert result.sip_status == 200
    assert result.pesq_mos is None and result.emodel_mos is None and result.rx_loss_pct is None
    assert result.error is not None and "no audio" in result.error
