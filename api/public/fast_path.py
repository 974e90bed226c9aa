"""Answers repeated public status page requests from memory, before FastAPI routing.

A response that :func:`api.public.site.respond` remembered (same path, Host kind and
values of the query parameters the route reads, the page's view still fresh) is
sent as raw ASGI messages: no routing, validation or dependency resolution, which
is most of a cached request's cost (measured: 1,948 req/s on one core through
FastAPI). Everything else, first requests and misses included, goes on to the app
unchanged.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from api.public.cache import PageCache
from api.public.site import Rendered, fast_key, reads_key, reply


class PublicFastPath:
    """ASGI middleware serving remembered ``GET /s/<slug>…`` responses."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        item = self._hit(scope)
        if item is None:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        status, body, extra = reply(
            item,
            headers.get(b"if-none-match", b"").decode("latin-1"),
            headers.get(b"accept-encoding", b"").decode("latin-1"),
        )
        extra["content-length"] = str(len(body))
        raw = [(name.encode(), value.encode("latin-1")) for name, value in extra.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def _hit(scope: Scope) -> Rendered | None:
        if scope["type"] != "http" or scope["method"] != "GET":
            return None
        path: str = scope["path"]
        if not path.startswith("/s/"):
            return None
        cache: PageCache | None = getattr(scope["app"].state, "page_cache", None)
        if cache is None:
            return None
        slug = path[3:].split("/", 1)[0]
        names: tuple[str, ...] | None = cache.fresh(reads_key(slug, scope))
        if names is None:
            return None
        hit: Rendered | None = cache.fresh(fast_key(slug, scope, names))
        return hit
