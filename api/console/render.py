"""How a console page goes out: one Jinja2 environment (autoescaped), a strict CSP with no
inline script, no caching, no framing."""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape

ASSETS = ("console.css", "console.js", "probe_charts.js")

POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline';"
    " img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none';"
    " frame-ancestors 'none'"
)
"""Inline styles only for plotly, which sets them from its script; no inline script."""

HEADERS = {
    "content-security-policy": POLICY,
    "cache-control": "no-store",
    "referrer-policy": "same-origin",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
}

_ENV = Environment(
    loader=PackageLoader("api", "console/templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _asset_version() -> str:
    digest = hashlib.sha256()
    for name in ASSETS:
        digest.update(resources.files("api").joinpath("console", "static", name).read_bytes())
    return digest.hexdigest()[:10]


_ENV.globals["asset_version"] = _asset_version()


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A console page; ``context`` feeds the template (``request`` is always there)."""
    html = _ENV.get_template(template).render(request=request, **context)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def redirect(url: str) -> RedirectResponse:
    """After a form: see the result at ``url`` (303, so a reload does not post again)."""
    return RedirectResponse(url, status_code=303, headers={"cache-control": "no-store"})
