"""REGISTER with digest auth against kamailio, then call."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from probes.result import Outcome
from probes.sip.spec import Registration
from tests.acceptance.conftest import CallRunner, Peer, start_kamailio, stop

pytestmark = pytest.mark.sip

PORT = 5294


@pytest.fixture(scope="module")
def registrar(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """kamailio as a registrar knowing one user, alice / s3cret."""
    proc = start_kamailio(tmp_path_factory.mktemp("kamailio"), PORT)
    yield f"sip:127.0.0.1:{PORT}"
    stop(proc)


def test_register_then_call(engine_runner: CallRunner, registrar: str, reflector: Peer) -> None:
    registration = Registration(registrar=registrar, username="alice", password="s3cret")
    result = engine_runner.call(target=reflector.uri, registration=registration, talk_s=4)
    assert result.outcome is Outcome.OK, result.error
    assert result.register_ms is not None and 0 < result.register_ms < 1000
    assert result.sip_status == 200


def test_wrong_password_is_reported_as_register_failure(
    engine_runner: CallRunner, registrar: str, reflector: Peer
) -> None:
    registration = Registration(registrar=registrar, username="alice", password="wrong")
    result = engine_runner.call(target=reflector.uri, registration=registration, talk_s=4)
    assert result.outcome is Outcome.REGISTER_FAILED
    assert result.error is not None and ("401" in result.error or "403" in result.error)
    assert result.sip_status is None
    assert "wrong" not in repr(result)


def test_password_never_appears_in_the_spec_repr() -> None:
    registration = Registration(registrar="sip:x", username="alice", password="hunter2")
    assert "hunter2" not in repr(registration)
