"""Request body size limits, enforced before routing, parsing or authentication.

A declared ``Content-Length`` over the limit is answered 413 at once, without
reading a byte or running the app. A body without one (chunked) is counted as the
app reads it and cut off at the limit: the app sees a 413 error instead of the
next chunk, so nothing past the limit is ever read into memory. Starlette's own
``RequestBodyLimitMiddleware`` learns a route's limit only after routing (after
authentication for routes that read their body themselves) and answers in plain
text, hence this one.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import NO_FRAMING, error_response, invalid


class BodyTooLarge(HTTPException):
    """The body passed its limit while being read."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than {limit} bytes", {"connection": "close"})


class BodyLimit:
    """ASGI middleware: ``limit`` bytes per request body, ``limits`` for exact paths."""

    def __init__(self, app: ASGIApp, *, limit: int, limits: Mapping[str, int]) -> None:
        self.app = app
        self.limit = limit
        self.limits = dict(limits)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(scope["path"], self.limit)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _refuse(BodyTooLarge(limit), scope, receive, send)
            return
        received, started = 0, False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyTooLarge as exc:
            if started:
                raise
            await _refuse(exc, scope, receive, send)


async def _refuse(exc: BodyTooLarge, scope: Scope, receive: Receive, send: Send) -> None:
    """413 in the project's error shape; the connection is closed, the body unread."""
    headers = {**NO_FRAMING, "cache-control": "no-store", **(exc.headers or {})}
    await error_response(413, str(exc.detail), headers=headers)(scope, receive, send)


async def read_limited(request: Request, limit: int, what: str) -> bytes:
    """The body of a route that takes less than the app's limit (an upload of ``what``),
    refused with a 422 once it passes ``limit`` bytes, not read further."""
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise invalid(("body",), f"{what} is larger than {limit // 1024} KiB")
    return bytes(data)
