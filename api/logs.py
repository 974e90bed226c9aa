"""Log lines as text or JSON, carrying the request, probe and run they belong to.

``CALLPROBE_LOG_FORMAT=json`` makes every line one JSON object (python-json-logger):
``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``, whatever a call passed in
``extra=``, and ``request_id`` / ``probe_id`` / ``run_id`` when the code that logs runs
inside a request or for one probe or run: :class:`ContextFilter` copies them from
context variables, which the request-id middleware and the services set.
"""

from __future__ import annotations

import logging
import logging.config
from contextvars import ContextVar
from typing import Any, Literal

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

LogFormat = Literal["text", "json"]

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
PROBE_ID: ContextVar[str | None] = ContextVar("probe_id", default=None)
RUN_ID: ContextVar[str | None] = ContextVar("run_id", default=None)
CONTEXT = {"request_id": REQUEST_ID, "probe_id": PROBE_ID, "run_id": RUN_ID}


class ContextFilter(logging.Filter):
    """Adds the context variables that are set to each record (an explicit ``extra=``
    value of the same name wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, variable in CONTEXT.items():
            value = variable.get()
            if value is not None and not hasattr(record, name):
                setattr(record, name, value)
        return True


def json_formatter() -> JsonFormatter:
    """One JSON object a line; uvicorn's ANSI-coloured copy of its messages left out."""
    return JsonFormatter(
        "%(levelname)s %(name)s %(message)s",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",
        reserved_attrs=[*RESERVED_ATTRS, "color_message", "taskName"],
    )


def use_json(config: dict[str, Any], level: str) -> dict[str, Any]:
    """A ``dictConfig`` made to write JSON lines with context to stderr from every handler
    it has, with the root logger (callprobe's own loggers) at ``level`` on the first."""
    config.setdefault("filters", {})["context"] = {"()": ContextFilter}
    config["formatters"] = {"json": {"()": json_formatter}}
    for handler in config["handlers"].values():
        handler.update(formatter="json", stream="ext://sys.stderr")
        handler["filters"] = [*handler.get("filters", []), "context"]
    config["root"] = {"handlers": [next(iter(config["handlers"]))], "level": level.upper()}
    return config


def configure(log_format: LogFormat, level: str = "info") -> None:
    """Set up logging for a command that is not the server (``callprobe agent``): JSON
    lines at ``level``, or the text format at warning as before."""
    if log_format == "text":
        return
    handlers = {"default": {"class": "logging.StreamHandler"}}
    logging.config.dictConfig(
        use_json({"version": 1, "disable_existing_loggers": False, "handlers": handlers}, level)
    )
