"""Custom domains: the DNS TXT check that proves a domain is the operator's, and the
Host-to-page map public requests are routed by."""

from __future__ import annotations

import dns.asyncresolver
import dns.exception
import dns.resolver
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import invalid
from api.settings import Settings
from api.state import of as state_of


async def verify_domain(record: str, expected: str, settings: Settings) -> None:
    """Pass when a TXT record at ``record`` holds ``expected``; 422 saying what was
    found otherwise."""
    resolver = dns.asyncresolver.Resolver(configure=settings.dns_server is None)
    if settings.dns_server is not None:
        host, _, port = settings.dns_server.rpartition(":")
        resolver.nameservers = [host]
        resolver.port = int(port)
    resolver.lifetime = 5.0
    try:
        answer = await resolver.resolve(record, "TXT")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        raise invalid(("body",), f"no TXT record at {record}: add one holding {expected}") from None
    except dns.exception.DNSException as exc:
        raise invalid(("body",), f"DNS lookup of {record} failed: {exc}") from exc
    found = [b"".join(rdata.strings).decode(errors="replace") for rdata in answer]
    if expected not in found:
        raise invalid(("body",), f"the TXT record at {record} holds {found!r}, not {expected!r}")


PUBLIC_EXEMPT = ("/static/",)


class CustomDomainRouter:
    """Serves a verified custom domain's page at its root: ``/x`` on that Host is
    ``/s/<slug>/x``, so everything else (the API, other pages) is 404 there. The map
    is ``state_of(app).domains``, reloaded whenever a page changes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        domains: dict[str, str] = state_of(scope["app"]).domains if "app" in scope else {}
        if scope["type"] == "http" and domains:
            host = _host(scope)
            slug = domains.get(host)
            if slug is not None and not scope["path"].startswith(PUBLIC_EXEMPT):
                path = f"/s/{slug}{scope['path'].rstrip('/')}"
                scope = {**scope, "path": path, "raw_path": path.encode(), "custom_domain": host}
        await self.app(scope, receive, send)


def _host(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"host":
            return str(value.decode("latin-1").rsplit(":", 1)[0].lower())
    return ""
