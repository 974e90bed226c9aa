"""The reverse proxy's question before it gets a TLS certificate on demand: is this a
verified custom domain of a status page? (Caddy's ``on_demand_tls ask``: any 2xx is yes.)

Answered from the process's map of verified domains (reloaded whenever a page changes),
so it costs no database query; rate-limited per client like every public route.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel

from api.errors import ErrorBody
from api.middleware.client_address import client_key
from api.state import of as state_of

router = APIRouter(
    tags=["public status pages"],
    responses={429: {"model": ErrorBody, "description": "Too many requests"}},
)


class AllowedDomain(BaseModel):
    """A domain a status page answers on: a certificate for it may be issued."""

    domain: str


@router.get(
    "/v1/public/domains/allowed",
    response_model=AllowedDomain,
    responses={404: {"model": ErrorBody, "description": "Not a verified custom domain"}},
    summary="Whether a TLS certificate may be issued for a domain",
)
async def allowed_domain(
    request: Request, domain: Annotated[str, Query(min_length=1, max_length=253)]
) -> AllowedDomain:
    """200 when ``domain`` is a status page's verified custom domain, 404 otherwise."""
    shared = state_of(request.app)
    await shared.public_limiter.check(client_key(request, shared.settings.trusted_proxies))
    name = domain.strip().rstrip(".").lower()
    if name not in shared.domains:
        raise HTTPException(404, "not a verified custom domain")
    return AllowedDomain(domain=name)
