"""One error body for every failure: ``{"error": {"code", "message", "details"}}``.

Store errors answer with their ``http_status``, validation with 422 and its
details, HTTP exceptions with their own status; nothing caused by input is a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from store.errors import StoreError

log = logging.getLogger(__name__)

CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large", 422: "invalid",
    429: "too_many_requests", 503: "unavailable",
}  # fmt: skip
NO_FRAMING = {"x-frame-options": "DENY", "content-security-policy": "frame-ancestors 'none'"}
UNAVAILABLE = "the database is unavailable; try again shortly"
RETRY_AFTER_S = 5


class ErrorDetail(BaseModel):
    """What went wrong in one place of the input (``loc`` as FastAPI reports it)."""

    loc: list[str | int] = []
    msg: str
    type: str


class Error(BaseModel):
    """A machine-readable ``code``, a human ``message`` and per-field ``details``."""

    code: str
    message: str
    details: list[ErrorDetail] = []


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: Error


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": HTTPStatus(status).phrase}
    for status in (400, 401, 403, 404, 409, 413, 422, 429, 503)
}
"""OpenAPI responses every route may give (passed to the app)."""


def invalid(loc: Sequence[str | int], message: str) -> RequestValidationError:
    """A 422 for input that parses but does not make sense (raise it)."""
    return RequestValidationError([{"loc": tuple(loc), "msg": message, "type": "value_error"}])


def error_response(
    status: int, message: str, details: list[ErrorDetail] | None = None,
    headers: Mapping[str, str] | None = None, code: str | None = None,
) -> JSONResponse:  # fmt: skip
    """The JSON response for an error (``code``: the status's generic one unless given)."""
    code = code or CODES.get(
        status, "error" if status >= 500 else HTTPStatus(status).phrase.lower()
    )
    body = ErrorBody(error=Error(code=code, message=message, details=details or []))
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Route every exception type we expect to :func:`error_response`."""
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http)  # type: ignore[arg-type]
    app.add_exception_handler(StoreError, _store)  # type: ignore[arg-type]


async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
    details = [
        ErrorDetail(
            loc=[part if isinstance(part, int) else str(part) for part in err.get("loc", ())],
            msg=str(err.get("msg", "")),
            type=str(err.get("type", "value_error")),
        )
        for err in exc.errors()
    ]
    message = "; ".join(f"{'.'.join(map(str, d.loc))}: {d.msg}" for d in details) or "invalid"
    return error_response(422, message, details)


async def _http(_: Request, exc: HTTPException) -> JSONResponse:
    return error_response(exc.status_code, str(exc.detail), headers=exc.headers)


async def _store(_: Request, exc: StoreError) -> JSONResponse:
    """Client errors say what was wrong; server errors are logged and never echo the
    driver's text (hosts, ports, users, SQL) to the client."""
    if exc.http_status == 503:
        log.warning("database unavailable: %s", exc)
        retry = {"Retry-After": str(RETRY_AFTER_S)}
        return error_response(503, UNAVAILABLE, headers=retry, code=exc.code)
    if exc.http_status >= 500:
        log.error("store error", exc_info=exc)
        return error_response(exc.http_status, "internal error")
    return error_response(exc.http_status, str(exc), code=exc.code)
