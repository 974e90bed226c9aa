"""The status pages' own stylesheet and scripts, plotly.js and the API docs' Swagger UI
(from the ``fastapi-offline`` package): served from here, never from a CDN, compressed
once per process and cached by browsers for a year (URLs carry a content version)."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
from functools import lru_cache
from importlib import resources
from typing import Literal

from fastapi import APIRouter, Request, Response

router = APIRouter(tags=["public status pages"])

AssetName = Literal[
    "page.css",
    "charts.js",
    "warning.js",
    "plotly.min.js",
    "swagger-ui.css",
    "swagger-ui-bundle.js",
    "docs.js",
]
VERSIONED = "public, max-age=31536000, immutable"
ASSETS: dict[AssetName, tuple[str, str, str]] = {
    "page.css": ("statuspages", "static/page.css", "text/css"),
    "charts.js": ("statuspages", "static/charts.js", "text/javascript"),
    "warning.js": ("statuspages", "static/warning.js", "text/javascript"),
    "plotly.min.js": ("plotly", "package_data/plotly.min.js", "text/javascript"),
    "swagger-ui.css": ("fastapi_offline", "static/swagger-ui.css", "text/css"),
    "swagger-ui-bundle.js": ("fastapi_offline", "static/swagger-ui-bundle.js", "text/javascript"),
    "docs.js": ("api", "static/docs.js", "text/javascript"),
}


@lru_cache(maxsize=len(ASSETS))
def _asset(name: AssetName) -> tuple[bytes, bytes, str]:
    package, path, media_type = ASSETS[name]
    data = resources.files(package).joinpath(path).read_bytes()
    return data, gzip.compress(data, 9, mtime=0), media_type


@lru_cache(maxsize=8)
def content_version(*names: AssetName) -> str:
    """A short hash of the assets' contents, for their URLs' ``?v=``."""
    digest = hashlib.sha256()
    for name in names:
        package, path, _ = ASSETS[name]
        digest.update(resources.files(package).joinpath(path).read_bytes())
    return digest.hexdigest()[:10]


@router.get("/static/{name}", response_class=Response, include_in_schema=False)
async def static_asset(name: AssetName, request: Request) -> Response:
    """A page asset, gzip-compressed when the client accepts it; cached for a year when
    its URL carries a content version (``?v=``), else for an hour (snippets pasted
    without one still pick up a new version)."""
    data, packed, media_type = await asyncio.to_thread(_asset, name)
    versioned = "v" in request.query_params
    headers = {
        "cache-control": VERSIONED if versioned else "public, max-age=3600",
        "vary": "Accept-Encoding",
        "x-content-type-options": "nosniff",
        "content-security-policy": "default-src 'none'",
    }
    if "gzip" in request.headers.get("accept-encoding", ""):
        data, headers["content-encoding"] = packed, "gzip"
    return Response(data, media_type=media_type, headers=headers)
