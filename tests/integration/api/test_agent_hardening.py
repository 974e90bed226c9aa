"""The agent against a real API server (uvicorn): no secret in its spool, a result the
API refuses for good is set aside instead of replayed, and its command line takes no
token and no plain-HTTP URL off loopback."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import uvicorn
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli.main import app as cli
from api.settings import Settings
from probes.agent import Agent, AgentConfig
from probes.spool import REJECTED_DIR, Spool
from tests.conftest import Cluster, Run
from tests.integration.api.conftest import Tenant, create, unique
from tests.integration.sip_registrar import Registrar

pytestmark = pytest.mark.db

SECRET = "s3cret-Pa55word"


class ApiServer:
    """The API app under uvicorn in a thread, stoppable and restartable on one port."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        config = uvicorn.Config(
            create_app(self.settings), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        _wait(lambda: self.server is not None and self.server.started, "the API to start")

    def stop(self) -> None:
        assert self.server is not None and self.thread is not None
        self.server.should_exit = True
        self.thread.join(15)


def _wait(check: Callable[[], object], what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture
def api_server(api_settings: Settings) -> Iterator[ApiServer]:
    server = ApiServer(api_settings)
    server.start()
    yield server
    if server.server is not None and not server.server.should_exit:
        server.stop()


def _agents(client: TestClient, tenant: Tenant, count: int) -> tuple[str, list[dict[str, Any]]]:
    location = create(client, tenant, "/v1/locations", {"name": unique("loc")})["name"]
    made = [
        create(client, tenant, "/v1/agents", {"name": f"a{n}", "location": location})
        for n in range(count)
    ]
    return location, made


def _sql(db: Cluster, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(db.url, autocommit=True) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []


def test_spool_holds_no_secret_and_a_refused_replay_is_set_aside(
    client: TestClient, tenant: Tenant, db: Cluster, api_server: ApiServer, tmp_path: Path,
    run: Run[Any],
) -> None:  # fmt: skip
    answer = threading.Event()
    registrar = Registrar(realm="pbx", final=f"403 Bad credentials {SECRET}", hold=answer)
    location, (holder, other) = _agents(client, tenant, 2)
    probe = create(client, tenant, "/v1/probes", {
        "name": "reg", "kind": "sip_register", "target": registrar.uri, "timeout_s": 10,
        "locations": [location], "options": {"username": "alice"}, "secret": SECRET,
    })  # fmt: skip
    _sql(db, "UPDATE schedules SET next_due = now() WHERE probe_id = %s", probe["id"])
    config = AgentConfig(
        api=api_server.url, token=holder["token"], location=location, spool_dir=tmp_path,
        concurrency=2, post_every_s=0.2, idle_poll_s=0.2, max_backoff_s=0.5, http_timeout_s=2,
    )  # fmt: skip
    agent = Agent(config)
    spool = Spool(tmp_path)

    async def scenario() -> None:
        stop = asyncio.Event()
        running = asyncio.create_task(agent.run(stop))
        try:
            # The agent holds the run and is mid-REGISTER (with the password) when the
            # API goes away: its result must go to the spool.
            await asyncio.to_thread(_wait, lambda: registrar.received, "the REGISTER")
            await asyncio.to_thread(api_server.stop)
            answer.set()
            await asyncio.to_thread(_wait, spool.pending, "the spooled result")
            # Meanwhile the lease went to another agent: the replay is refused for good.
            _sql(db, "UPDATE runs SET leased_by = %s WHERE probe_id = %s", other["id"], probe["id"])
            await asyncio.to_thread(api_server.start)
            await asyncio.to_thread(_wait, lambda: agent.stats.refused, "the refused replay")
        finally:
            stop.set()
            await running

    try:
        run(scenario())
    finally:
        registrar.close()
    assert registrar.authorised, "the password was never used"
    assert agent.stats.spooled == 1 and agent.stats.refused == 1 and spool.pending() == []
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert files and all(SECRET not in path.read_text() for path in files)
    [kept] = (tmp_path / REJECTED_DIR).iterdir()
    record = json.loads(kept.read_text())
    assert "not leased to this agent" in record["reason"]
    assert record["result"]["sip_reason"] == "Bad credentials [redacted]"
    assert _sql(db, "SELECT count(*) FROM call_results WHERE probe_id = %s", probe["id"]) == [(0,)]


@pytest.fixture
def agent_env(db: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLPROBE_DATABASE_URL", db.url)
    monkeypatch.delenv("CALLPROBE_AGENT_TOKEN", raising=False)


@pytest.mark.usefixtures("agent_env")
@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--token", "cpa_visible-in-ps"], {}, "--token is refused"),
        ([], {}, "no agent token: set $CALLPROBE_AGENT_TOKEN or pass --token-file"),
        (["--token-file", "/nonexistent/token"], {}, "cannot read the token file"),
        (["--api", "http://192.0.2.10:8080"], {"CALLPROBE_AGENT_TOKEN": "cpa_x"}, "plain-HTTP"),
    ],
)
def test_agent_command_refuses_argv_tokens_and_plain_http(
    args: list[str], env: dict[str, str], message: str
) -> None:
    base = ["agent", "--location", "ams", "--no-calls"]
    if "--api" not in args:
        base += ["--api", "https://probes.example.net"]
    result = CliRunner().invoke(cli, base + args, env=env)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())


def test_agent_command_reads_its_token_from_a_file(
    client: TestClient, tenant: Tenant, db: Cluster, api_server: ApiServer, tmp_path: Path
) -> None:
    location, [agent] = _agents(client, tenant, 1)
    token_file = tmp_path / "token"
    token_file.write_text(agent["token"] + "\n")
    env = {k: v for k, v in os.environ.items() if k != "CALLPROBE_AGENT_TOKEN"}
    command = [sys.executable, "-m", "api", "agent", "--api", api_server.url]
    command += ["--location", location, "--no-calls", "--token-file", str(token_file)]
    command += ["--spool", str(tmp_path / "spool")]
    proc = subprocess.Popen(
        command, env={**env, "CALLPROBE_DATABASE_URL": db.url}, stderr=subprocess.PIPE
    )
    try:
        seen = "SELECT last_seen FROM agents WHERE id = %s"
        _wait(lambda: _sql(db, seen, agent["id"])[0][0] is not None, "the agent to lease")
        assert agent["token"] not in " ".join(_cmdline(proc.pid))
    finally:
        proc.terminate()
        proc.wait(20)


def _cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_text().split("\0")
