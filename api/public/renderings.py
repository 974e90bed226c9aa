"""Public status page renderings: from this process's cache or computed once, and sent.

A page's view model is loaded once per cache period and every rendering of it
(HTML, embed, wall, JSON, feeds, badges) is cached beside it, keyed by the view
it came from, so nothing is older than the view. The period is the smaller of
``page_cache_s`` and half the page's refresh interval, so a NOC wall that reloads
every ``refresh_s`` sees a change within one and a half intervals. Only requests
that miss the cache count against the client's public rate limit.

Nothing a request carries besides its path and the query parameters a route reads
goes into a key or a body: absolute URLs come from configuration, never from the
Host header, so no client can change what another one is sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping
from datetime import UTC, datetime

from fastapi import Request, Response

from api.middleware.client_address import client_key
from api.public.cache import PageCache
from api.public.fast_path import remember
from api.public.responses import Rendered, reply
from api.state import of as state_of
from statuspages import load
from statuspages.view import PageView


def respond(request: Request, item: Rendered, reads: Mapping[str, str] | None = None) -> Response:
    """``item`` as a response, remembered for :class:`api.public.fast_path.PublicFastPath`
    until the page's view expires. ``reads``: the query parameters the route used, each
    with the value it used, spelled as a client would."""
    status, body, headers = reply(
        item,
        request.headers.get("if-none-match", ""),
        request.headers.get("accept-encoding", ""),
    )
    slug = request.path_params.get("slug")
    if request.method == "GET" and slug:
        remember(_cache(request), slug, request.scope, item, reads or {})
    return Response(body, status_code=status, headers=headers)


def forget(request: Request, slugs: Iterable[str]) -> None:
    """Drop this process's renderings of ``slugs`` now (others hear of it on commit)."""
    for slug in slugs:
        _cache(request).invalidate(slug)


def _cache(request: Request) -> PageCache:
    cache: PageCache = state_of(request.app).page_cache
    return cache


async def _limited(request: Request) -> None:
    """Count an uncached public request against its client's limit."""
    client = client_key(request, state_of(request.app).settings.trusted_proxies)
    await state_of(request.app).public_limiter.check(client)


def ttl(request: Request, refresh_s: int) -> float:
    return float(min(state_of(request.app).settings.page_cache_s, refresh_s / 2))


async def view(request: Request, slug: str) -> PageView:
    """The page's view model, or 404 when no page is published at ``slug``."""
    key = (slug, "view")
    cached = _cache(request).fresh(key)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    await _limited(request)

    async def compute() -> tuple[PageView, float]:
        shared = state_of(request.app)
        async with shared.transaction() as conn:
            loaded = await load.published_view(conn, slug, datetime.now(UTC), shared.bar_memo)
        return loaded, ttl(request, loaded.page.refresh_s)

    result: PageView = await _cache(request).get(key, compute, "view")
    return result


async def derived(
    request: Request,
    source: PageView,
    kind: str,
    extra: Hashable,
    make: Callable[[], Awaitable[Rendered]],
) -> Rendered:
    """A rendering of ``source``, computed once per view and ``(kind, extra)``."""
    key = (source.page.slug, (kind, extra, source.now))

    async def compute() -> tuple[Rendered, float]:
        return await make(), ttl(request, source.page.refresh_s)

    result: Rendered = await _cache(request).get(key, compute, kind)
    return result


async def cached(
    request: Request,
    slug: str,
    kind: str,
    extra: Hashable,
    make: Callable[[], Awaitable[tuple[Rendered, float]]],
) -> Rendered:
    """A rendering that needs its own reads (detail charts, SLA months, images)."""
    key = (slug, (kind, extra))
    hit = _cache(request).fresh(key)
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    await _limited(request)
    result: Rendered = await _cache(request).get(key, make, kind)
    return result
