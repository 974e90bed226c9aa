"""`callprobe call` end to end: a real call, printed, and stored in TimescaleDB."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from store.pool import transaction
from store.results import recent_results
from tests.acceptance.conftest import Peer
from tests.conftest import Cluster, Run

pytestmark = [pytest.mark.sip, pytest.mark.db]


def callprobe(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
        check=False,
    )


@pytest.fixture
def env(tmp_path: Path, db: Cluster) -> dict[str, str]:
    """Own SIP/RTP ports (the session engine holds others) and the test database."""
    return {
        "CALLPROBE_DATABASE_URL": db.url,
        "CALLPROBE_DATA_DIR": str(tmp_path),
        "CALLPROBE_SIP_PORT_BASE": "5360",
        "CALLPROBE_RTP_PORT_BASE": "43000",
    }


def test_call_prints_json_and_stores_the_result(
    env: dict[str, str], reflector: Peer, db: Cluster, run: Run[Any]
) -> None:
    probe = f"cli-{uuid.uuid4().hex[:8]}"
    done = callprobe("call", reflector.uri, "--duration", "4", "--probe", probe, "--json", env=env)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed["outcome"] == "ok" and printed["sip_status"] == 200
    # A real score; its accuracy is test_clean_calls' job, which sets aside calls
    # a busy host disturbed (see the README).
    assert 1.0 <= printed["pesq_mos"] <= 4.5

    async def stored() -> list[Any]:
        async with transaction(db.url) as conn:
            return await recent_results(conn, probe)

    rows = run(stored())
    assert [str(r.run_id) for r in rows] == [printed["run_id"]]
    assert rows[0].pesq_mos == pytest.approx(printed["pesq_mos"])
    assert rows[0].rx_packets == printed["rx_packets"]


def test_call_prints_a_readable_table(env: dict[str, str], reflector: Peer) -> None:
    done = callprobe("call", reflector.uri, "--duration", "3", "--no-store", env=env)
    assert done.returncode == 0, done.stderr
    for label in ("Final SIP status", "MOS-LQO (PESQ)", "Codec ceiling", "R-factor", "Jitter"):
        assert label in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["call", "echo@127.0.0.1"], "must start with 'sip:'"),
        (["call", "sip:echo@127.0.0.1:99999"], "port"),
        (["call", "sip:echo@127.0.0.1", "--codec", "AMR"], "AMR"),
        (["call", "sip:echo@127.0.0.1", "--register", "sip:127.0.0.1"], "--username"),
    ],
)
def test_bad_input_fails_fast_before_dialling(
    env: dict[str, str], args: list[str], message: str
) -> None:
    started = time.monotonic()
    done = callprobe(*args, env=env)
    assert done.returncode == 2
    assert message in done.stderr
    assert time.monotonic() - started < 10


def test_an_unusable_reference_file_is_refused(env: dict[str, str], tmp_path: Path) -> None:
    fake = tmp_path / "prompt.wav"
    fake.write_text("not audio at all\n" * 50)
    done = callprobe("call", "sip:echo@127.0.0.1", "--reference", str(fake), env=env)
    assert done.returncode == 2
    assert "prompt.wav" in done.stderr


def test_a_result_made_while_the_database_is_away_is_spooled_then_stored(
    env: dict[str, str], reflector: Peer, db: Cluster, run: Run[Any], tmp_path: Path
) -> None:
    probe = f"outage-{uuid.uuid4().hex[:8]}"
    gone = {**env, "CALLPROBE_DATABASE_URL": db.url.replace(f":{db.port}/", ":1/")}
    first = callprobe(
        "call", reflector.uri, "--duration", "3", "--probe", probe, "--json", env=gone
    )
    assert first.returncode == 0, first.stderr
    assert "spooled 1 result" in first.stderr
    assert len(list((tmp_path / "spool").glob("*.json"))) == 1

    second = callprobe(
        "call", reflector.uri, "--duration", "3", "--probe", probe, "--json", env=env
    )
    assert second.returncode == 0, second.stderr
    assert list((tmp_path / "spool").glob("*.json")) == []

    async def stored() -> set[str]:
        async with transaction(db.url) as conn:
            return {str(r.run_id) for r in await recent_results(conn, probe)}

    expected = {json.loads(first.stdout)["run_id"], json.loads(second.stdout)["run_id"]}
    assert run(stored()) == expected
