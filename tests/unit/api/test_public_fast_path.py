"""The public fast path: a remembered response is sent before routing, anything else
reaches the app."""

from __future__ import annotations

import time
from types import SimpleNamespace

from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from api.public.cache import PageCache
from api.public.fast_path import PublicFastPath, remember
from api.public.responses import rendered


def _app(cache: PageCache) -> Starlette:
    async def routed(request: Request) -> PlainTextResponse:
        return PlainTextResponse("routed")

    app = Starlette(
        routes=[Route("/s/{rest:path}", routed)], middleware=[Middleware(PublicFastPath)]
    )
    app.state.callprobe = SimpleNamespace(page_cache=cache)
    return app


def _scope(path: str, query: bytes = b"") -> dict[str, object]:
    return {"path": path, "query_string": query}


def test_a_remembered_response_is_sent_without_routing() -> None:
    cache = PageCache()
    cache.remember(("acme", "view"), object(), time.monotonic() + 60)
    item = rendered("remembered", "text/plain")
    remember(cache, "acme", _scope("/s/acme/components/c1", b"days=7"), item, {"days": "7"})
    client = TestClient(_app(cache))
    hit = client.get("/s/acme/components/c1?days=7")
    assert hit.text == "remembered" and hit.headers["etag"] == item.etag
    assert client.get("/s/acme/components/c1?days=30").text == "routed"
    assert client.get("/s/other").text == "routed"


def test_nothing_is_remembered_without_a_fresh_view() -> None:
    cache = PageCache()
    remember(cache, "acme", _scope("/s/acme"), rendered("stale", "text/plain"), {})
    assert TestClient(_app(cache)).get("/s/acme").text == "routed"
