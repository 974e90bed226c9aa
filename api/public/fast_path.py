"""Answers repeated public status page requests from memory, before FastAPI routing.

A response that :func:`api.public.renderings.respond` remembered here (same path,
Host kind and values of the query parameters the route reads, the page's view still
fresh) is sent as raw ASGI messages: no routing, validation or dependency
resolution, which is most of a cached request's cost (measured: 1,948 req/s on one
core through FastAPI). Everything else, first requests and misses included, goes on
to the app unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from api.public.cache import Key, PageCache
from api.public.responses import Rendered, reply
from api.state import of as state_of


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
        if not path.startswith("/s/") or "app" not in scope:
            return None
        cache = state_of(scope["app"]).page_cache
        slug = path[3:].split("/", 1)[0]
        names: tuple[str, ...] | None = cache.fresh(reads_key(slug, scope))
        if names is None:
            return None
        hit: Rendered | None = cache.fresh(fast_key(slug, scope, names))
        return hit


def remember(
    cache: PageCache, slug: str, scope: Scope, item: Rendered, reads: Mapping[str, str]
) -> None:
    """Keep ``item`` for the fast path under the parameters the route read, until the
    page's view expires. Any other parameter is left out of the key, and a spelling
    other than the value used (``days=07``) is not kept, so no query string can add
    entries."""
    until = cache.expires((slug, "view"))
    names = tuple(reads)
    sent = zip(names, _sent(scope, names), strict=True)
    if until is None or any(value not in (None, reads[name]) for name, value in sent):
        return
    cache.remember(reads_key(slug, scope), names, until)
    cache.remember(fast_key(slug, scope, names), item, until)


def reads_key(slug: str, scope: Scope) -> Key:
    """Where the names of the query parameters a public path reads are remembered."""
    return slug, ("reads", scope["path"], scope.get("custom_domain", ""))


def fast_key(slug: str, scope: Scope, names: Sequence[str]) -> Key:
    """The key a finished public response is remembered by: its path, Host kind (a
    custom domain's links differ from ``/s/<slug>`` ones) and the parameters read."""
    path, domain = scope["path"], scope.get("custom_domain", "")
    return slug, ("http", path, domain, _sent(scope, names))


def _sent(scope: Scope, names: Sequence[str]) -> tuple[str | None, ...]:
    """The values the client sent for ``names`` (the last of repeats, as routes read)."""
    if not names:
        return ()
    query = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
    return tuple(query.get(name) for name in names)
