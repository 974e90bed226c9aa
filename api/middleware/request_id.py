"""Request ids: every request gets one, every log line of it carries it, the response
says it.

The client's ``X-Request-ID`` is kept when it is a sane token (what a proxy or a
tracing header puts there: letters, digits, ``._:-``, at most 128 characters), so one
id follows a request through the proxy and the API; anything else is replaced by a
fresh one. The id lives in :data:`api.logs.REQUEST_ID` while the request runs.
"""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.logs import REQUEST_ID

HEADER = "x-request-id"
SANE = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class RequestId:
    """Outermost middleware: sets the request id for the app and its log lines."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = given(scope) or uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            REQUEST_ID.reset(token)


def given(scope: Scope) -> str | None:
    """The client's request id when it is a sane token."""
    for name, value in scope["headers"]:
        if name == HEADER.encode():
            text = value.decode("latin-1")
            return text if SANE.fullmatch(text) else None
    return None
