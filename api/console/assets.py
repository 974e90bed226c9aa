"""The console's own stylesheet and script (versioned URLs, cached for a year)."""

from __future__ import annotations

from importlib import resources
from typing import Literal

from fastapi import APIRouter, Response

router = APIRouter(prefix="/console/static", include_in_schema=False)

_TYPES = {
    "console.css": "text/css",
    "console.js": "text/javascript",
    "probe_charts.js": "text/javascript",
}


@router.get("/{name}", response_class=Response)
async def asset(name: Literal["console.css", "console.js", "probe_charts.js"]) -> Response:
    body = resources.files("api").joinpath("console", "static", name).read_bytes()
    return Response(
        body,
        media_type=_TYPES[name],
        headers={
            "cache-control": "public, max-age=31536000, immutable",
            "x-content-type-options": "nosniff",
        },
    )
