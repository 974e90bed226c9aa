"""Who is calling: project API keys (read/write), agent tokens and the admin token.

Tokens are ``cp_`` (API key), ``cpa_`` (agent) or ``cpp_`` (push) followed by 32
random bytes, url-safe base64. Only their SHA-256 is stored; the first
:data:`PREFIX_LEN` characters identify them in listings. A token is shown once,
when it is issued.

Failed attempts are counted per client address (``state_of(app).auth_limiter``); a
client past its limit gets 429 before its token is even looked up, so guessing
costs neither the database nor more than a few tries a minute.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.middleware.client_address import client_key
from api.state import of as state_of
from store import agents, keys
from store.pool import AsyncConn

API_KEY_PREFIX = "cp_"
AGENT_TOKEN_PREFIX = "cpa_"  # noqa: S105 - a prefix, not a secret
PUSH_TOKEN_PREFIX = "cpp_"  # noqa: S105 - a prefix, not a secret
PREFIX_LEN = 10
SCOPES = ("read", "write")
TOUCH_EVERY = timedelta(seconds=30)
"""``agents.last_seen`` is rewritten at most this often per agent."""


@dataclass(frozen=True, kw_only=True, slots=True)
class IssuedToken:
    """A fresh token: the plaintext (show it once), its listing prefix and stored hash."""

    token: str
    prefix: str
    hash: bytes


@dataclass(frozen=True, kw_only=True, slots=True)
class Principal:
    """The caller behind an API key, or a console user in a project (``key_id`` None);
    every query is scoped by ``project_id``. ``actor`` and ``via`` name them in the
    audit log."""

    project_id: uuid.UUID
    scope: str
    key_id: uuid.UUID | None = None
    actor: str = ""
    via: str = "api"


@dataclass(frozen=True, kw_only=True, slots=True)
class AgentPrincipal:
    """The agent behind an agent token, with the location it serves."""

    agent_id: uuid.UUID
    project_id: uuid.UUID
    location_id: uuid.UUID
    location: str


_api_key = HTTPBearer(
    scheme_name="apiKey", description="A project API key: `cp_…`", auto_error=False
)
_agent_token = HTTPBearer(
    scheme_name="agentToken", description="An agent token: `cpa_…`", auto_error=False
)
_admin_token = HTTPBearer(
    scheme_name="adminToken", description="CALLPROBE_ADMIN_TOKEN", auto_error=False
)
_push_token = HTTPBearer(
    scheme_name="pushToken", description="A push probe's token: `cpp_…`", auto_error=False
)
Credentials = HTTPAuthorizationCredentials | None


def new_token(prefix: str) -> IssuedToken:
    """A new high-entropy token with its kind ``prefix``."""
    token = prefix + secrets.token_urlsafe(32)
    return IssuedToken(token=token, prefix=token[:PREFIX_LEN], hash=hash_token(token))


def hash_token(token: str) -> bytes:
    """What is stored for, and looked up by, a token."""
    return hashlib.sha256(token.encode()).digest()


async def issue_api_key(
    conn: AsyncConn, project_id: uuid.UUID, name: str, scope: str
) -> tuple[keys.ApiKey, str]:
    """Store a new key of the project; returns it with its plaintext token."""
    issued = new_token(API_KEY_PREFIX)
    key = await keys.create_key(
        conn, project_id=project_id, name=name, scope=scope,
        prefix=issued.prefix, token_hash=issued.hash,
    )  # fmt: skip
    return key, issued.token


async def issue_agent_token(
    conn: AsyncConn, project_id: uuid.UUID, location_id: uuid.UUID, name: str
) -> tuple[agents.Agent, str]:
    """Store a new agent at a location of the project; returns it with its token."""
    issued = new_token(AGENT_TOKEN_PREFIX)
    agent = await agents.create_agent(
        conn, project_id=project_id, location_id=location_id, name=name,
        prefix=issued.prefix, token_hash=issued.hash,
    )  # fmt: skip
    return agent, issued.token


async def require_read(
    request: Request, credentials: Annotated[Credentials, Depends(_api_key)]
) -> Principal:
    """Any valid, unrevoked API key (401 otherwise)."""
    token, client = await _presented(request, credentials, API_KEY_PREFIX)
    async with state_of(request.app).statement() as conn:
        owner = await keys.key_by_hash(conn, hash_token(token))
    if owner is None:
        raise await _failed(request, client, "invalid or revoked API key")
    return Principal(
        project_id=owner.project_id,
        key_id=owner.key_id,
        scope=owner.scope,
        actor=f"API key {owner.name} ({owner.prefix}…)",
    )


async def require_write(principal: Annotated[Principal, Depends(require_read)]) -> Principal:
    """An API key with the write scope (403 for a read key)."""
    if principal.scope != "write":
        raise HTTPException(403, "this API key is read-only: a write key is needed")
    return principal


async def require_agent(
    request: Request, credentials: Annotated[Credentials, Depends(_agent_token)]
) -> AgentPrincipal:
    """A valid, unrevoked agent token (401 otherwise); notes when the agent was seen."""
    token, client = await _presented(request, credentials, AGENT_TOKEN_PREFIX)
    async with state_of(request.app).statement() as conn:
        owner = await agents.agent_by_hash(conn, hash_token(token))
        if owner is not None and _stale(owner.last_seen):
            await agents.touch_agent(conn, owner.agent_id)
    if owner is None:
        raise await _failed(request, client, "invalid or revoked agent token")
    return AgentPrincipal(
        agent_id=owner.agent_id, project_id=owner.project_id,
        location_id=owner.location_id, location=owner.location,
    )  # fmt: skip


async def require_admin(
    request: Request, credentials: Annotated[Credentials, Depends(_admin_token)]
) -> None:
    """The configured admin token (403 when none is configured, 401 when it differs)."""
    configured = state_of(request.app).settings.admin_token
    if configured is None:
        raise HTTPException(403, "admin routes are disabled: set CALLPROBE_ADMIN_TOKEN")
    presented, client = await _presented(request, credentials, "")
    if not hmac.compare_digest(presented.encode(), configured.get_secret_value().encode()):
        raise await _failed(request, client, "invalid admin token")


async def push_token(credentials: Annotated[Credentials, Depends(_push_token)]) -> str:
    """The push token sent as ``Authorization: Bearer cpp_…`` (401 when there is none)."""
    if credentials is None:
        raise _unauthorized("missing push token (Authorization: Bearer cpp_…)")
    return credentials.credentials


async def refuse_failing_client(request: Request) -> str:
    """The caller's client key; 429 when it has failed authentication too often."""
    client = client_key(request, state_of(request.app).settings.trusted_proxies)
    await state_of(request.app).auth_limiter.refuse_if_spent(client)
    return client


async def count_failure(request: Request, client: str) -> None:
    """Count a failed authentication against ``client``."""
    await state_of(request.app).auth_limiter.count(client)


async def _presented(request: Request, credentials: Credentials, prefix: str) -> tuple[str, str]:
    """The bearer token and the caller's client key, refused before any lookup."""
    if credentials is None:
        raise _unauthorized("missing bearer token (Authorization: Bearer …)")
    client = await refuse_failing_client(request)
    if not credentials.credentials.startswith(prefix):
        raise await _failed(request, client, f"not a {prefix}… token")
    return credentials.credentials, client


async def _failed(request: Request, client: str, message: str) -> HTTPException:
    await count_failure(request, client)
    return _unauthorized(message)


def _stale(last_seen: datetime | None) -> bool:
    return last_seen is None or datetime.now(UTC) - last_seen >= TOUCH_EVERY


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


Reader = Annotated[Principal, Depends(require_read)]
"""A route parameter: the caller holds a read (or write) key."""
Writer = Annotated[Principal, Depends(require_write)]
"""A route parameter: the caller holds a write key."""
