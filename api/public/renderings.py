"""Public status page responses: cached renderings, their headers, gzip and ETags.

A page's view model is loaded once per cache period and every rendering of it
(HTML, embed, wall, JSON, feeds, badges) is cached beside it, keyed by the view
it came from, so nothing is older than the view. The period is the smaller of
``page_cache_s`` and half the page's refresh interval, so a NOC wall that reloads
every ``refresh_s`` sees a change within one and a half intervals.

Nothing a request carries besides its path and the query parameters a route reads
goes into a key or a body: absolute URLs come from configuration, never from the
Host header, so no client can change what another one is sent.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

from fastapi import Request, Response
from starlette.types import Scope

from api.middleware.client_address import client_key
from api.public.cache import Key, PageCache
from api.state import of as state_of
from statuspages.load import page_view
from statuspages.view import PageView
from store import status_pages
from store.errors import NotFound
from store.pool import transaction
from store.status_pages import Page

GZIP_MIN = 1024


@dataclass(frozen=True, slots=True)
class Rendered:
    """A response body ready to send, with its compressed form and validators."""

    body: bytes
    gz: bytes | None
    media_type: str
    etag: str
    headers: tuple[tuple[str, str], ...] = ()


def rendered(body: str | bytes, media_type: str, headers: dict[str, str] | None = None) -> Rendered:
    data = body.encode() if isinstance(body, str) else body
    packed = gzip.compress(data, 6, mtime=0) if len(data) >= GZIP_MIN else None
    etag = '"' + hashlib.blake2b(data, digest_size=12).hexdigest() + '"'
    return Rendered(data, packed, media_type, etag, tuple((headers or {}).items()))


def html_policy(frame_ancestors: list[str]) -> dict[str, str]:
    """The CSP of a public HTML view: scripts and styles only from here, framing only
    by the origins the page allows."""
    ancestors = " ".join(frame_ancestors) or "'none'"
    return {
        "content-security-policy": (
            "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:;"
            " script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none';"
            f" frame-ancestors {ancestors}"
        ),
        "referrer-policy": "strict-origin-when-cross-origin",
    }


def reply(
    item: Rendered, if_none_match: str, accept_encoding: str
) -> tuple[int, bytes, dict[str, str]]:
    """Status, body and headers for ``item``: 304 when the client has it, gzip when it
    accepts it."""
    headers = {
        "etag": item.etag,
        "cache-control": "no-cache",
        "vary": "Accept-Encoding",
        "x-content-type-options": "nosniff",
        **dict(item.headers),
    }
    if if_none_match == item.etag:
        return 304, b"", headers
    headers["content-type"] = item.media_type
    if item.gz is not None and "gzip" in accept_encoding:
        headers["content-encoding"] = "gzip"
        return 200, item.gz, headers
    return 200, item.body, headers


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
        _remember(request, slug, item, reads or {})
    return Response(body, status_code=status, headers=headers)


def _remember(request: Request, slug: str, item: Rendered, reads: Mapping[str, str]) -> None:
    """Keep ``item`` for the fast path under the parameters the route read. Any other
    parameter is left out of the key, and a spelling other than the value used
    (``days=07``) is not kept, so no query string can add entries."""
    cache, scope = _cache(request), request.scope
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


def page_url(request: Request, page: Page) -> str:
    """The page's absolute address, from configuration only: its verified custom
    domain (with ``CALLPROBE_PUBLIC_URL``'s scheme), else ``PUBLIC_URL/s/<slug>``."""
    public_url: str = state_of(request.app).settings.public_url.rstrip("/")
    if page.custom_domain and page.domain_verified_at is not None:
        return f"{urlsplit(public_url).scheme or 'https'}://{page.custom_domain}"
    return f"{public_url}/s/{page.slug}"


def base_path(request: Request, slug: str) -> str:
    """Where the page's links start: the root on its custom domain, else ``/s/<slug>``."""
    return "" if request.scope.get("custom_domain") else f"/s/{slug}"


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
        async with transaction(state_of(request.app).pool) as conn:
            page = await status_pages.page_by_slug(conn, slug)
            if page is None:
                raise NotFound("no status page is published here")
            loaded = await page_view(conn, page, datetime.now(UTC), state_of(request.app).bar_memo)
        return loaded, ttl(request, page.refresh_s)

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
