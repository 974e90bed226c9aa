"""The API's Swagger UI at ``/docs``, working without internet access.

FastAPI's own page loads Swagger UI from a CDN and starts it with an inline script;
this one loads it from ``/static`` (the ``fastapi-offline`` package's copy) and starts
it with a script file, so its policy allows scripts, styles and requests from this
origin only, and no framing.
"""

from __future__ import annotations

from functools import lru_cache
from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.public.static_assets import content_version

router = APIRouter(include_in_schema=False)

POLICY = "; ".join((
    "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    "connect-src 'self'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
))  # fmt: skip

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>callprobe API</title>
<link rel="stylesheet" href="/static/swagger-ui.css?v={version}">
</head><body>
<div id="swagger-ui" data-openapi="{openapi}"></div>
<script src="/static/swagger-ui-bundle.js?v={version}"></script>
<script src="/static/docs.js?v={version}"></script>
</body></html>
"""


@lru_cache(maxsize=1)
def _version() -> str:
    return content_version("swagger-ui.css", "swagger-ui-bundle.js", "docs.js")


@router.get("/docs", response_class=HTMLResponse)
async def docs(request: Request) -> HTMLResponse:
    """Swagger UI over the app's OpenAPI document."""
    page = _PAGE.format(version=_version(), openapi=escape(request.app.openapi_url))
    headers = {"content-security-policy": POLICY, "x-frame-options": "DENY"}
    return HTMLResponse(page, headers=headers)
