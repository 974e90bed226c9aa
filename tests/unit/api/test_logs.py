"""Log lines: JSON objects with the request id, and quiet health checks."""

from __future__ import annotations

import io
import json
import logging
import logging.config

from api.logs import REQUEST_ID, RUN_ID, ContextFilter, json_formatter
from api.middleware.access_log import QuietProbes, log_config

ACCESS = '%s - "%s %s HTTP/%s" %d'


def access(path: str, status: int) -> logging.LogRecord:
    args = ("127.0.0.1:5000", "GET", path, "1.1", status)
    return logging.LogRecord("uvicorn.access", logging.INFO, "", 0, ACCESS, args, None)


def test_successful_health_checks_are_left_out_of_the_access_log() -> None:
    quiet = QuietProbes()
    assert not quiet.filter(access("/readyz", 200))
    assert not quiet.filter(access("/healthz", 200))
    assert quiet.filter(access("/readyz", 503))
    assert quiet.filter(access("/v1/project", 200))


def test_a_json_line_carries_the_context_and_extra_fields() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("test.logs")
    logger.addHandler(handler)
    token, run = REQUEST_ID.set("req-1"), RUN_ID.set("run-9")
    try:
        logger.warning("stored %d", 3, extra={"probe_id": "p-1", "color_message": "x"})
    finally:
        REQUEST_ID.reset(token)
        RUN_ID.reset(run)
        logger.removeHandler(handler)
    line = json.loads(stream.getvalue())
    assert line.pop("time").endswith("+00:00")
    assert line == {
        "level": "WARNING", "logger": "test.logs", "message": "stored 3",
        "request_id": "req-1", "run_id": "run-9", "probe_id": "p-1",
    }  # fmt: skip


def test_the_json_config_sends_every_handler_to_stderr_with_the_context_filter() -> None:
    config = log_config("json", "warning")
    assert config["root"]["level"] == "WARNING"
    for handler in config["handlers"].values():
        assert handler["formatter"] == "json" and handler["stream"] == "ext://sys.stderr"
        assert "context" in handler["filters"]
    assert log_config("text")["formatters"] != config["formatters"]
