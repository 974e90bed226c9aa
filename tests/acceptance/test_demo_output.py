"""``callprobe demo`` as a new user sees it: a short start, a summary with the URLs and
the key, then quiet (no library chatter, no access log of the agent's polling), and
Ctrl-C stops everything.

Runs on its own data dir, API, SIP and RTP ports (a developer's demo may be running)
and the test cluster; it places real calls, so run it alone, not beside other SIP tests.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import Cluster

pytestmark = [pytest.mark.db, pytest.mark.sip, pytest.mark.timeout(90)]

API_PORT = 18211
BASE = f"http://127.0.0.1:{API_PORT}"
SIP_PORT = 5480
RTP_PORT = 57000
ENGINE_SIP_PORT = 5470
ENGINE_RTP_PORT = 57600
QUIET_S = 6.0
CHATTER = ("swig", "pjlib", "pjsua", "sip_endpoint", "/v1/agent/lease", "/v1/agent/results")


def _lines(stream: object, into: queue.Queue[str | None]) -> None:
    for line in iter(stream.readline, ""):  # type: ignore[attr-defined]
        into.put(line.rstrip("\n"))
    into.put(None)


def _until(lines: queue.Queue[str | None], seen: list[str], marker: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not any(marker in line for line in seen):
        line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        assert line is not None, "demo exited:\n" + "\n".join(seen)
        seen.append(line)


def _drain(lines: queue.Queue[str | None], seen: list[str], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            return
        if line is not None:
            seen.append(line)


def test_demo_starts_briefly_prints_a_summary_and_stays_quiet(db: Cluster, tmp_path: Path) -> None:
    environ = {
        **os.environ,
        "CALLPROBE_DATABASE_URL": db.url,
        "CALLPROBE_DATA_DIR": str(tmp_path),
        "CALLPROBE_SIP_PORT_BASE": str(ENGINE_SIP_PORT),
        "CALLPROBE_RTP_PORT_BASE": str(ENGINE_RTP_PORT),
        "CALLPROBE_AGENT_POLL_S": "0.5",
        "COLUMNS": "200",
    }
    environ.pop("CALLPROBE_PUBLIC_URL", None)
    options = ["--port", str(API_PORT), "--sip-port", str(SIP_PORT), "--rtp-port", str(RTP_PORT)]
    demo = subprocess.Popen(
        [sys.executable, "-m", "api", "demo", *options],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_lines, args=(demo.stdout, lines), daemon=True).start()
    seen: list[str] = []
    try:
        _until(lines, seen, "─ callprobe demo ─", timeout=60)
        before = len(seen) - 1
        _until(lines, seen, "Ctrl-C", timeout=5)
        summary = "\n".join(seen[before:])
        key = next(line.split()[2] for line in seen if "write key" in line)
        probes = httpx.get(f"{BASE}/v1/probes", headers={"Authorization": f"Bearer {key}"})
        _drain(lines, seen, QUIET_S)
    finally:
        demo.send_signal(signal.SIGINT)
        stopped = demo.wait(40)
    output = "\n".join(seen)
    assert before <= 30, output
    assert f"status page  {BASE}/s/demo-" in summary, output
    assert f"NOC wall     {BASE}/s/demo-" in summary and "/wall" in summary, output
    assert f"API docs     {BASE}/docs" in summary, output
    assert f"console      {BASE}/console/" in summary, output
    assert probes.status_code == 200 and len(probes.json()) == 5, output
    assert not [line for line in seen if any(word in line.lower() for word in CHATTER)], output
    assert not [line for line in seen if "ERROR" in line or "Traceback" in line], output
    assert stopped == 0, output
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{BASE}/openapi.json", timeout=2)
