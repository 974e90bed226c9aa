"""The status pages' own stylesheet and scripts, and plotly.js: served from here, never
from a CDN, compressed once per process and cached by browsers for a year (URLs
carry a content version)."""

from __future__ import annotations

import asyncio
import gzip
from functools import lru_cache
from importlib import resources
from typing import Literal

from fastapi import APIRouter, Request, Response

router = APIRouter(tags=["public status pages"])

ASSETS = {
    "page.css": ("statuspages", "static/page.css", "text/css"),
    "charts.js": ("statuspages", "static/charts.js", "text/javascript"),
    "plotly.min.js": ("plotly", "package_data/plotly.min.js", "text/javascript"),
}


@lru_cache(maxsize=len(ASSETS))
def _asset(name: str) -> tuple[bytes, bytes, str]:
    package, path, media_type = ASSETS[name]
    data = resources.files(package).joinpath(path).read_bytes()
    return data, gzip.compress(data, 9, mtime=0), media_type


@router.get("/static/{name}", response_class=Response, include_in_schema=False)
async def static_asset(
    name: Literal["page.css", "charts.js", "plotly.min.js"], request: Request
) -> Response:
    """A page asset, gzip-compressed when the client accepts it."""
    data, packed, media_type = await asyncio.to_thread(_asset, name)
    headers = {
        "cache-control": "public, max-age=31536000, immutable",
        "vary": "Accept-Encoding",
        "x-content-type-options": "nosniff",
        "content-security-policy": "default-src 'none'",
    }
    if "gzip" in request.headers.get("accept-encoding", ""):
        data, headers["content-encoding"] = packed, "gzip"
    return Response(data, media_type=media_type, headers=headers)
