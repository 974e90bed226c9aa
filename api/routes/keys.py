"""API keys of the caller's project: list, issue (token shown once), revoke."""

from __future__ import annotations

import uuid
from dataclasses import asdict

from fastapi import APIRouter, Response

from api.schemas.keys import KeyCreate, KeyCreated, KeyOut
from api.security.auth import Reader, Writer, issue_api_key
from api.services import audit
from api.services.snapshots import settings
from api.state import State
from store import keys
from store.errors import Conflict

router = APIRouter(prefix="/v1/keys", tags=["keys"])


@router.get("", response_model=list[KeyOut])
async def list_keys(principal: Reader, st: State) -> list[keys.ApiKey]:
    """The project's keys (prefixes only), revoked ones included."""
    async with st.transaction() as conn:
        return await keys.list_keys(conn, principal.project_id)


@router.post("", status_code=201, response_model=KeyCreated)
async def create_key(body: KeyCreate, principal: Writer, st: State) -> KeyCreated:
    """Issue a key; its token is in this response only."""
    async with st.transaction() as conn:
        key, token = await issue_api_key(conn, principal.project_id, body.name, body.scope)
        await audit.record(conn, principal, "create", "api_key", key.id, after=settings(key))
    return KeyCreated.model_validate({**asdict(key), "token": token})


@router.delete("/{key_id}", status_code=204, response_class=Response)
async def revoke_key(key_id: uuid.UUID, principal: Writer, st: State) -> None:
    """Revoke a key at once; the calling key cannot revoke itself."""
    if key_id == principal.key_id:
        raise Conflict("a key cannot revoke itself: use another write key")
    async with st.transaction() as conn:
        key = await keys.revoke_key(conn, principal.project_id, key_id)
        await audit.record(conn, principal, "revoke", "api_key", key_id, after=settings(key))
