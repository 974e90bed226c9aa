"""The API's routers; :data:`api.app.ROUTERS` lists those the app serves."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from fastapi import Request

from api.state import of as state_of
from store.pool import AsyncConn, transaction


def db(request: Request) -> AbstractAsyncContextManager[AsyncConn]:
    """A transaction on the app's pool, committed when the block succeeds."""
    return transaction(state_of(request.app).pool)
