"""The dispatcher: input refused before anything is dialled, and kinds agents do not run."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from probes.kinds.checks import CheckSpec, run_check
from probes.kinds.tcp_check import InvalidTarget, parse_hostport
from probes.result import Outcome
from tests.check_spec import check_spec
from tests.conftest import Run

PROBE_ID = uuid.uuid4()


def spec(kind: str, target: str, **options: Any) -> CheckSpec:
    return check_spec(
        kind, target, name="edge", probe_id=PROBE_ID, secret="hunter2", location="par1", **options
    )


@pytest.mark.parametrize(
    ("kind", "target", "options", "outcome", "message"),
    [
        ("push", "", {}, Outcome.INVALID_INPUT, "reported by the application"),
        ("sip_call", "sip:echo@127.0.0.1", {}, Outcome.ENGINE_ERROR, "no call engine"),
        ("sip_options", "http://x", {}, Outcome.INVALID_INPUT, "must start with 'sip:'"),
        ("sip_register", "sip:h:0", {"username": "a"}, Outcome.INVALID_INPUT, "port"),
        ("http", "ftp://x", {}, Outcome.INVALID_INPUT, "not an http(s) URL"),
        ("tcp", "example.com", {}, Outcome.INVALID_INPUT, "port"),
        ("icmp", "127.0.0.1", {"count": 20, "interval_s": 1}, Outcome.INVALID_INPUT, "do not fit"),
    ],
)
def test_refusals(
    run: Run[Any], kind: str, target: str, options: dict[str, Any], outcome: Outcome, message: str
) -> None:
    check = spec(kind, target, **options)
    result = run(run_check(check))
    assert result.outcome is outcome
    assert result.error is not None and message in result.error
    assert (result.kind, result.run_id, result.probe_id) == (kind, check.run_id, PROBE_ID)
    assert (result.probe, result.location, result.target) == ("edge", "par1", target)


def test_the_secret_stays_out_of_reprs() -> None:
    assert "hunter2" not in repr(spec("sip_register", "sip:h", username="a"))


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("db.example.com:5432", ("db.example.com", 5432)),
        ("[::1]:80", ("::1", 80)),
        (" 10.0.0.1:1 ", ("10.0.0.1", 1)),
    ],
)
def test_host_port_targets(target: str, expected: tuple[str, int]) -> None:
    assert parse_hostport(target) == expected


@pytest.mark.parametrize(
    "target",
    [
        "",
        "host",
        "host:",
        ":80",
        "host:0",
        "host:65536",
        "::1:80",
        "[::1]",
        "[x]:80",
        "a b:80",
        "user@host:22",
        "http://h:80",
    ],
)
def test_bad_host_port_targets(target: str) -> None:
    with pytest.raises(InvalidTarget):
        parse_hostport(target)
