"""SIP OPTIONS and REGISTER checks against SIPp and kamailio (digest auth)."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from probes.kinds.checks import CallRuntime, CheckSpec, run_check
from probes.result import CallResult, Outcome
from tests.acceptance.conftest import (
    PEERS,
    CallRunner,
    Peer,
    sipp,
    start_kamailio,
    start_peer,
    stop,
)
from tests.check_spec import check_spec
from tests.conftest import Run

pytestmark = pytest.mark.sip

KAMAILIO_PORT = 5296


def check(
    run: Run[Any], kind: str, target: str, secret: str | None = None, **options: Any
) -> CallResult:
    spec = check_spec(
        kind, target, timeout_s=3.0, name="edge-sbc", probe_id=uuid.uuid4(), secret=secret,
        location="lab", **options,
    )  # fmt: skip
    result: CallResult = run(run_check(spec))
    return result


@dataclass(frozen=True)
class Registrar:
    """A running kamailio: where to send SIP, and its control socket."""

    uri: str
    ctl: Path

    def bindings(self) -> str:
        """The location table, as ``kamcmd ul.dump`` prints it."""
        command = ["kamcmd", "-s", f"unix:{self.ctl}", "ul.dump"]
        done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=10)
        return done.stdout


@pytest.fixture(scope="module")
def kamailio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registrar]:
    """kamailio on UDP and TCP: registrar for alice / s3cret, answers OPTIONS with 200."""
    tmp = tmp_path_factory.mktemp("kamailio-kinds")
    proc = start_kamailio(tmp, KAMAILIO_PORT)
    yield Registrar(uri=f"sip:127.0.0.1:{KAMAILIO_PORT}", ctl=tmp / "ctl.sock")
    stop(proc)


@pytest.fixture(scope="module", params=[(200, "OK", 5300), (503, "Service Unavailable", 5301)])
def sipp_options(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, int]]:
    """SIPp answering every OPTIONS with one final code."""
    code, reason, port = request.param
    template = (PEERS / "sipp" / "options.xml").read_text()
    scenario = tmp_path_factory.mktemp("sipp-options") / "options.xml"
    scenario.write_text(template.replace("@CODE@", str(code)).replace("@REASON@", reason))
    proc = start_peer(sipp(port, 36300 + port - 5300, "-sf", str(scenario)), port)
    yield f"sip:ping@127.0.0.1:{port}", code
    stop(proc)


def test_options_against_sipp(run: Run[Any], sipp_options: tuple[str, int]) -> None:
    target, code = sipp_options
    result = check(run, "sip_options", target)
    assert result.sip_status == code
    assert result.latency_ms is not None and 0 < result.latency_ms < 200
    if code == 200:
        assert result.outcome is Outcome.OK, result.error
        assert result.error is None
    else:
        assert result.outcome is Outcome.FAILED
        assert result.error == "answered 503 Service Unavailable"
        accepted = check(run, "sip_options", target, accepted_codes=[200, 503])
        assert accepted.outcome is Outcome.OK


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_options_against_kamailio(run: Run[Any], kamailio: Registrar, transport: str) -> None:
    result = check(run, "sip_options", kamailio.uri, transport=transport)
    assert result.outcome is Outcome.OK, result.error
    assert (result.sip_status, result.sip_reason, result.transport) == (200, "OK", transport)
    assert result.latency_ms is not None and 0 < result.latency_ms < 200


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_register_with_the_right_password(
    run: Run[Any], kamailio: Registrar, transport: str
) -> None:
    result = check(
        run, "sip_register", kamailio.uri, "s3cret", username="alice", transport=transport
    )
    assert result.outcome is Outcome.OK, result.error
    assert result.sip_status == 200
    assert result.register_ms is not None and 0 < result.register_ms < 1000
    assert (result.kind, result.location, result.probe) == ("sip_register", "lab", "edge-sbc")
    # the probe removed its binding again (Expires: 0) once the check had succeeded
    assert "AoR: alice" not in kamailio.bindings()


def test_register_with_a_wrong_password(run: Run[Any], kamailio: Registrar) -> None:
    result = check(run, "sip_register", kamailio.uri, "wrong", username="alice")
    assert result.outcome is Outcome.REGISTER_FAILED
    assert result.sip_status in (401, 403)
    assert result.error is not None and str(result.sip_status) in result.error
    assert result.register_ms is None
    assert "wrong" not in repr(result)


def test_register_without_a_password(run: Run[Any], kamailio: Registrar) -> None:
    result = check(run, "sip_register", kamailio.uri, None, username="alice")
    assert result.outcome is Outcome.REGISTER_FAILED
    assert result.error is not None and "no password" in result.error


def test_register_in_the_wrong_realm(run: Run[Any], kamailio: Registrar) -> None:
    result = check(
        run, "sip_register", kamailio.uri, "s3cret", username="alice", realm="pbx.example"
    )
    assert result.outcome is Outcome.REGISTER_FAILED
    assert result.error is not None and "realm '127.0.0.1'" in result.error


def call_check(
    engine_runner: CallRunner, target: str, secret: str | None = None, **options: Any
) -> tuple[CheckSpec, CallResult]:
    spec = check_spec(
        "sip_call", target, timeout_s=5.0, name="echo-call", probe_id=uuid.uuid4(), secret=secret,
        location="lab", **options,
    )  # fmt: skip
    runtime = CallRuntime(engine=engine_runner.engine, scorer=engine_runner.scorer)
    result = engine_runner.loop.run_until_complete(run_check(spec, runtime))
    return spec, result


def test_sip_call_runs_through_the_engine(engine_runner: CallRunner, sipp_echo: Peer) -> None:
    spec, result = call_check(engine_runner, sipp_echo.uri, talk_s=3)
    assert result.outcome is Outcome.OK, result.error
    assert result.pesq_mos is not None and result.pesq_mos > 3.5
    assert (result.run_id, result.probe_id, result.kind) == (spec.run_id, spec.probe_id, "sip_call")
    assert (result.location, result.probe) == ("lab", "echo-call")


def test_sip_call_registration_uses_the_secret(
    engine_runner: CallRunner, kamailio: Registrar, sipp_echo: Peer
) -> None:
    options = {"registrar": kamailio.uri, "username": "alice", "talk_s": 2}
    _, refused = call_check(engine_runner, sipp_echo.uri, "wrong", **options)
    assert refused.outcome is Outcome.REGISTER_FAILED, refused.error
    _, bad = call_check(engine_runner, "sip:echo@", "s3cret", **options)
    assert bad.outcome is Outcome.INVALID_INPUT
    assert bad.error is not None and "invalid host" in bad.error
