"""Public status page response bodies: a rendering's bytes, gzip form, ETag and headers,
and the status and headers it is sent with (304 when the client has it)."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass

GZIP_MIN = 1024
JSON_HEADERS = {"access-control-allow-origin": "*", "content-security-policy": "default-src 'none'"}
FEED_HEADERS = {"content-security-policy": "default-src 'none'"}
SVG_HEADERS = {"content-security-policy": "default-src 'none'; style-src 'unsafe-inline'"}
IMAGE_HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox"
}


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
