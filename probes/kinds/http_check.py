"""The HTTP(S) check: status, optional body match, time to the response headers."""

from __future__ import annotations

import time
from dataclasses import replace

import httpx

from probes.kinds.options import HttpOptions
from probes.result import CallResult, Outcome

MAX_BODY_BYTES = 1 << 20
"""Most body read for ``body_contains``; a match further in is not seen."""


async def check_http(
    url: str, options: HttpOptions, timeout_s: float, base: CallResult
) -> CallResult:
    """One request to ``url``, redirects not followed (a 301 is an answer to judge)."""
    if not url.lower().startswith(("http://", "https://")):
        return replace(base, outcome=Outcome.INVALID_INPUT, error=f"{url!r} is not an http(s) URL")
    async with httpx.AsyncClient(
        verify=options.verify_tls, follow_redirects=False, timeout=timeout_s
    ) as client:
        started = time.perf_counter()
        try:
            async with client.stream(options.method, url) as response:
                latency_ms = round((time.perf_counter() - started) * 1000.0, 3)
                body = await _read_capped(response) if options.body_contains else b""
        except httpx.TimeoutException as exc:
            raise TimeoutError from exc
        except httpx.InvalidURL as exc:
            return replace(base, outcome=Outcome.INVALID_INPUT, error=f"invalid URL: {exc}")
        except httpx.ConnectError as exc:
            return replace(base, outcome=Outcome.FAILED, error=f"cannot connect: {exc}")
        except httpx.HTTPError as exc:
            return replace(base, outcome=Outcome.FAILED, error=f"{type(exc).__name__}: {exc}")
    measured = replace(base, status_code=response.status_code, latency_ms=latency_ms)
    if response.status_code not in options.accepted_status:
        return replace(
            measured,
            outcome=Outcome.FAILED,
            error=f"status {response.status_code} is not one of {options.accepted_status}",
        )
    wanted = options.body_contains
    if wanted and wanted.encode() not in body:
        return replace(
            measured,
            outcome=Outcome.FAILED,
            error=f"body does not contain {wanted!r} (first {MAX_BODY_BYTES} bytes read)",
        )
    return replace(measured, outcome=Outcome.OK)


async def _read_capped(response: httpx.Response) -> bytes:
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) >= MAX_BODY_BYTES:
            break
    return bytes(body[:MAX_BODY_BYTES])
