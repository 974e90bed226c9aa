"""Where a status page is published: absolute addresses from configuration only (never
from the Host header), and the base path its links start with."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request

from api.public.static_assets import content_version
from api.schemas.pages import PageUrls
from api.state import of as state_of
from store.status_pages import Page


def page_url(request: Request, page: Page) -> str:
    """The page's absolute address (see :func:`page_address`)."""
    verified = page.custom_domain if page.domain_verified_at is not None else None
    return page_address(state_of(request.app).settings.public_url, page.slug, verified)


def page_address(public_url: str, slug: str, verified_domain: str | None) -> str:
    """A page's absolute address, from configuration only: its verified custom domain
    (with ``CALLPROBE_PUBLIC_URL``'s scheme), else ``PUBLIC_URL/s/<slug>``."""
    if verified_domain:
        return f"{urlsplit(public_url).scheme or 'https'}://{verified_domain}"
    return f"{public_url}/s/{slug}"


def base_path(request: Request, slug: str) -> str:
    """Where the page's links start: the root on its custom domain, else ``/s/<slug>``."""
    return "" if request.scope.get("custom_domain") else f"/s/{slug}"


def page_urls(request: Request, slug: str) -> PageUrls:
    """The addresses of the page at ``slug`` and its machine-readable views, under
    ``CALLPROBE_PUBLIC_URL`` (the management API lists them)."""
    public_url = state_of(request.app).settings.public_url
    base = f"{public_url}/s/{slug}"
    return PageUrls(
        page=base,
        embed=f"{base}/embed",
        wall=f"{base}/wall",
        summary_json=f"{base}/api/v2/summary.json",
        atom=f"{base}/history.atom",
        sla=f"{base}/sla",
        status_badge=f"{base}/badge/status.svg",
        uptime_badge=f"{base}/badge/uptime.svg",
        warning_json=f"{base}/api/warning.json",
        warning_script=f"{public_url}/static/warning.js?v={content_version('warning.js')}",
    )
