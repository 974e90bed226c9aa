"""The REGISTER check presents its password only to the realm the probe names."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from probes.kinds.checks import run_check
from probes.result import CallResult, Outcome
from tests.check_spec import check_spec
from tests.conftest import Run
from tests.integration.sip_registrar import Registrar


@pytest.fixture
def registrar() -> Iterator[Registrar]:
    peer = Registrar(realm="attacker.example")
    yield peer
    peer.close()


def _register(run: Run[Any], target: str, **options: Any) -> CallResult:
    spec = check_spec(
        "sip_register",
        target,
        name="reg",
        secret="s3cret-password",
        **{"username": "alice", **options},
    )
    result: CallResult = run(run_check(spec))
    return result


def test_a_challenge_from_another_realm_gets_no_credentials(
    run: Run[Any], registrar: Registrar
) -> None:
    result = _register(run, registrar.uri, realm="pbx.example")
    assert result.outcome is Outcome.REGISTER_FAILED and result.sip_status == 401
    assert result.error is not None and "'attacker.example' is not 'pbx.example'" in result.error
    assert len(registrar.received) == 1 and registrar.authorised == []


def test_the_configured_realm_or_any_realm_when_none_is_set_is_answered(
    run: Run[Any], registrar: Registrar
) -> None:
    assert _register(run, registrar.uri, realm="attacker.example").outcome is Outcome.OK
    assert _register(run, registrar.uri).outcome is Outcome.OK
    assert len(registrar.authorised) >= 2
