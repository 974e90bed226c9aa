"""The app's shared state, typed: one object that ``create_app`` builds and its lifespan
completes (the database pool, the health evaluator).

Routes reach it through the :data:`State` dependency, middleware and background
tasks through :func:`of`; nothing reads ``app.state.<name>`` strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, cast

from fastapi import Depends, Request

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from api.middleware.ratelimit import RateLimiter
    from api.public.cache import PageCache
    from api.services.judging_queue import HealthEvaluator
    from api.settings import Settings
    from statuspages.bars import BarMemo
    from store.pool import Pool


@dataclass(kw_only=True)
class AppState:
    """Everything one API process shares between requests."""

    settings: Settings
    push_limiter: RateLimiter
    public_limiter: RateLimiter
    auth_limiter: RateLimiter
    page_cache: PageCache
    bar_memo: BarMemo
    domains: dict[str, str] = field(default_factory=dict)
    """Verified custom domain -> page slug, reloaded whenever a page changes."""
    opened_pool: Pool | None = None
    opened_evaluator: HealthEvaluator | None = None

    @property
    def pool(self) -> Pool:
        """The database pool; open from the lifespan's start to its end."""
        if self.opened_pool is None:
            raise RuntimeError("the database pool is not open (outside the app's lifespan)")
        return self.opened_pool

    @property
    def evaluator(self) -> HealthEvaluator:
        """The background health evaluator, started in the lifespan."""
        if self.opened_evaluator is None:
            raise RuntimeError("the health evaluator is not running (outside the lifespan)")
        return self.opened_evaluator


def of(app: ASGIApp) -> AppState:
    """The state of an app built by ``create_app``."""
    return cast("AppState", app.state.callprobe)  # type: ignore[attr-defined]


def state(request: Request) -> AppState:
    """FastAPI dependency: the requesting app's state."""
    return of(request.app)


State = Annotated[AppState, Depends(state)]
"""A route parameter typed ``State`` receives the app's state."""
