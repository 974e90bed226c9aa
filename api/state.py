"""The app's shared state, typed: one object that ``create_app`` builds and its lifespan
completes (the database pool, the judging loop, the notification dispatcher).

Database work goes through it: ``async with st.transaction() as conn`` for writes and
reads that must agree, ``async with st.statement() as conn`` for one autocommitted
statement.

Routes reach it through the :data:`State` dependency, middleware and background
tasks through :func:`of`; nothing reads ``app.state.<name>`` strings.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, cast

from fastapi import Depends, Request

from store.pool import statement, transaction

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from api.middleware.ratelimit import RateLimiter
    from api.public.cache import PageCache
    from api.services.judging_queue import JudgingLoop
    from api.settings import Settings
    from notify.dispatcher import Dispatcher
    from notify.ssrf import Guard
    from statuspages.bars import BarMemo
    from store.pool import AsyncConn, Pool


@dataclass(kw_only=True)
class AppState:
    """Everything one API process shares between requests."""

    settings: Settings
    push_limiter: RateLimiter
    public_limiter: RateLimiter
    auth_limiter: RateLimiter
    login_limiter: RateLimiter
    page_cache: PageCache
    bar_memo: BarMemo
    domains: dict[str, str] = field(default_factory=dict)
    """Verified custom domain -> page slug, reloaded whenever a page changes."""
    guard: Guard
    """The SSRF guard notification targets pass when a channel is configured."""
    draining: bool = False
    """Set when a shutdown began: ``/readyz`` answers 503 while requests still finish."""
    opened_pool: Pool | None = None
    opened_judging: JudgingLoop | None = None
    opened_dispatcher: Dispatcher | None = None

    @property
    def pool(self) -> Pool:
        """The database pool; open from the lifespan's start to its end."""
        if self.opened_pool is None:
            raise RuntimeError("the database pool is not open (outside the app's lifespan)")
        return self.opened_pool

    def transaction(self) -> AbstractAsyncContextManager[AsyncConn]:
        """A connection inside a transaction on the pool, committed when the block succeeds."""
        return transaction(self.pool)

    def statement(self) -> AbstractAsyncContextManager[AsyncConn]:
        """A connection for one autocommitted statement: hot read paths."""
        return statement(self.pool)

    @property
    def judging(self) -> JudgingLoop:
        """This process's judging loop, which ingest nudges; it runs in the background
        from the lifespan's start to its end."""
        if self.opened_judging is None:
            raise RuntimeError("the judging loop is not running (outside the app's lifespan)")
        return self.opened_judging

    @property
    def dispatcher(self) -> Dispatcher:
        """This process's notification dispatcher (its loop runs with the lifespan)."""
        if self.opened_dispatcher is None:
            raise RuntimeError("the dispatcher is not running (outside the app's lifespan)")
        return self.opened_dispatcher


def of(app: ASGIApp) -> AppState:
    """The state of an app built by ``create_app``."""
    return cast("AppState", app.state.callprobe)  # type: ignore[attr-defined]


def state(request: Request) -> AppState:
    """FastAPI dependency: the requesting app's state."""
    return of(request.app)


State = Annotated[AppState, Depends(state)]
"""A route parameter typed ``State`` receives the app's state."""
