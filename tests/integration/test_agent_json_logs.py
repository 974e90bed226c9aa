"""``callprobe agent`` with ``CALLPROBE_LOG_FORMAT=json``: its log lines are JSON objects."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_agent_log_lines_are_json_objects(tmp_path) -> None:
    env = {
        **os.environ, "CALLPROBE_LOG_FORMAT": "json", "CALLPROBE_AGENT_TOKEN": "t" * 32,
        "CALLPROBE_DATA_DIR": str(tmp_path), "CALLPROBE_AGENT_POLL_S": "0.2",
    }  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "api", "agent", "--api", "http://127.0.0.1:9", "--location",
         "ams", "--no-calls", "--spool", str(tmp_path / "spool")],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(4)  # no API listens there: the agent warns that leasing failed
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=30)
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert lines, stderr
    assert lines[0]["logger"] == "probes.agent" and lines[0]["level"] == "WARNING"
    assert lines[0]["message"].startswith("lease failed")
    assert {"time", "level", "logger", "message"} <= set(lines[0])
