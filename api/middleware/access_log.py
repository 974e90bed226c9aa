"""Uvicorn's logging configuration with push tokens redacted from the access log.

``POST /v1/push/<token>`` carries a secret in its path, and uvicorn logs every
request line; the filter rewrites the path before any handler formats it.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any
from urllib.parse import unquote

from uvicorn.config import LOGGING_CONFIG

PUSH_TOKEN = re.compile(r"(/v1/push/)[^/?#\s]+")
PATH_ARG = 2
"""Index of the request path in uvicorn's access record arguments (client, method,
path, HTTP version, status)."""


class RedactPushTokens(logging.Filter):
    """Replaces the token of ``/v1/push/<token>`` in access records with ``[redacted]``."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) > PATH_ARG:
            path = args[PATH_ARG]
            if isinstance(path, str):
                record.args = (*args[:PATH_ARG], redact(path), *args[PATH_ARG + 1 :])
        return True


def redact(path: str) -> str:
    """``path`` with any push token replaced (also when the client percent-encoded it)."""
    decoded = unquote(path)
    if PUSH_TOKEN.search(decoded) is None:
        return path
    return PUSH_TOKEN.sub(r"\1[redacted]", decoded)


def log_config() -> dict[str, Any]:
    """Uvicorn's default logging configuration plus :class:`RedactPushTokens`."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_push_tokens"] = {"()": RedactPushTokens}
    config["loggers"]["uvicorn.access"]["filters"] = ["redact_push_tokens"]
    return config
