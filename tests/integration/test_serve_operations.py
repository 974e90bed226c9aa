"""A real ``callprobe serve`` on a cluster of its own: /readyz through a PostgreSQL
restart, JSON log lines carrying the request id, and the drain on SIGTERM."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from store import cluster
from tests.conftest import start_migrated

pytestmark = pytest.mark.db

REPO = Path(__file__).resolve().parents[2]
PG_PORT = 25460
API_PORT = 25461
ADMIN = "admin-operations-test-0123456789abcdef"
BASE = f"http://127.0.0.1:{API_PORT}"


@pytest.fixture(scope="module")
def own_cluster() -> Iterator[tuple[Path, str]]:
    root = cluster.default_root("pg-ops")
    url = start_migrated(root, PG_PORT)
    yield root, url
    cluster.stop(root)


@contextlib.contextmanager
def serving(url: str, log: Path, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    """``callprobe serve`` with JSON logs to ``log``; stopped (SIGKILL if it lingers)."""
    environ = {
        **os.environ, "CALLPROBE_DATABASE_URL": url, "CALLPROBE_ADMIN_TOKEN": ADMIN,
        "CALLPROBE_DATA_DIR": str(log.parent), "CALLPROBE_LOG_FORMAT": "json",
        "CALLPROBE_NOTIFY_DISPATCH": "false", **env,
    }  # fmt: skip
    with log.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "api", "serve", "--port", str(API_PORT)],
            cwd=REPO, env=environ, stdout=subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip
    try:
        wait_for(lambda: get("/healthz").status_code == 200, 30)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def get(path: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(BASE + path, timeout=5, **kwargs)


def wait_for(condition: Any, within_s: float) -> float:
    """Seconds until ``condition()`` held (connection errors count as not yet)."""
    started = time.monotonic()
    while time.monotonic() - started < within_s:
        with contextlib.suppress(httpx.HTTPError):
            if condition():
                return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"not within {within_s} s")


def test_readyz_follows_a_postgresql_restart_and_logs_are_json(own_cluster, tmp_path) -> None:
    root, url = own_cluster
    log = tmp_path / "serve.log"
    with serving(url, log):
        assert get("/readyz").status_code == 200
        request_id = "ops-test-4f9c2a"
        assert get("/v1/project", headers={"X-Request-ID": request_id}).status_code == 401
        cluster.stop(root)
        try:
            started = time.monotonic()
            down = get("/readyz")
            answered_s = time.monotonic() - started
            assert get("/healthz").status_code == 200
        finally:
            cluster.start(root, PG_PORT)
        recovered_s = wait_for(lambda: get("/readyz").status_code == 200, 30)
    assert down.status_code == 503
    assert down.headers["retry-after"] == "5"
    assert down.json()["error"]["code"] == "database_unavailable"
    assert answered_s < 2.0
    print(f"readyz: 503 after {answered_s:.2f} s, PostgreSQL down; 200 {recovered_s:.2f} s after")
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    [access] = [line for line in lines if line.get("request_id") == request_id]
    assert access["logger"] == "uvicorn.access" and "/v1/project" in access["message"]
    assert not [line for line in lines if "/readyz" in line["message"] and "200" in line["message"]]


def test_sigterm_drains_an_in_flight_request_and_readyz_says_so(own_cluster, tmp_path) -> None:
    _, url = own_cluster
    body = json.dumps({"name": "drained"}).encode()
    head = (
        f"POST /v1/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with serving(url, tmp_path / "serve.log", CALLPROBE_SHUTDOWN_DELAY_S="1.5") as proc:
        with socket.create_connection(("127.0.0.1", API_PORT), timeout=30) as slow:
            slow.sendall(head + body[:5])  # in flight: the body is still arriving
            time.sleep(0.3)
            proc.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            draining = get("/readyz")
            time.sleep(2.0)  # past the delay: the server no longer accepts
            with pytest.raises(httpx.ConnectError):
                get("/healthz")
            slow.sendall(body[5:])
            answer = slow.recv(65536).decode()
            answered_s = time.monotonic() - signalled
        proc.wait(20)
        exited_s = time.monotonic() - signalled
    print(
        f"drain: in-flight request answered {answered_s:.2f} s, exit {exited_s:.2f} s after SIGTERM"
    )
    assert draining.status_code == 503
    assert draining.json()["error"]["code"] == "draining"
    assert answer.startswith("HTTP/1.1 201 "), answer[:200]
    assert proc.returncode in (0, -signal.SIGTERM)
