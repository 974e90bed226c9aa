"""Uvicorn's logging configuration with push tokens redacted from the access log.

``POST /v1/push/<token>`` carries a secret in its path, and uvicorn logs every
request line; the filter rewrites the path before any handler formats it. Successful
``/healthz`` and ``/readyz`` requests (a load balancer's every few seconds) are left
out; a failing one is logged. In JSON mode every line is one JSON object
(:mod:`api.logs`).
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any
from urllib.parse import unquote

from uvicorn.config import LOGGING_CONFIG

from api.logs import LogFormat, use_json

PUSH_TOKEN = re.compile(r"(/v1/push/)[^/?#\s]+")
PATH_ARG = 2
STATUS_ARG = 4
"""Indexes of the request path and the status in uvicorn's access record arguments
(client, method, path, HTTP version, status)."""
PROBE_PATHS = frozenset({"/healthz", "/readyz"})


class RedactPushTokens(logging.Filter):
    """Replaces the token of ``/v1/push/<token>`` in access records with ``[redacted]``."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) > PATH_ARG:
            path = args[PATH_ARG]
            if isinstance(path, str):
                record.args = (*args[:PATH_ARG], redact(path), *args[PATH_ARG + 1 :])
        return True


class QuietProbes(logging.Filter):
    """Drops access records of health and readiness checks that answered 200."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) > STATUS_ARG:
            return not (args[PATH_ARG] in PROBE_PATHS and args[STATUS_ARG] == 200)
        return True


def redact(path: str) -> str:
    """``path`` with any push token replaced (also when the client percent-encoded it)."""
    decoded = unquote(path)
    if PUSH_TOKEN.search(decoded) is None:
        return path
    return PUSH_TOKEN.sub(r"\1[redacted]", decoded)


def log_config(log_format: LogFormat = "text", level: str = "info") -> dict[str, Any]:
    """Uvicorn's default logging configuration plus :class:`RedactPushTokens` and
    :class:`QuietProbes`, in ``log_format`` (JSON: every logger at ``level``, on stderr)."""
    config = copy.deepcopy(LOGGING_CONFIG)
    filters = config.setdefault("filters", {})
    filters["redact_push_tokens"] = {"()": RedactPushTokens}
    filters["quiet_probes"] = {"()": QuietProbes}
    config["loggers"]["uvicorn.access"]["filters"] = ["redact_push_tokens", "quiet_probes"]
    return use_json(config, level) if log_format == "json" else config
