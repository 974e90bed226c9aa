"""The FastAPI application: routers, error handling, framing headers, the pool lifespan.

Routers are listed in :data:`ROUTERS`; add a new one there. Every response
refuses framing and caching unless the route set its own Content-Security-Policy
(public status pages decide their own ``frame-ancestors``).
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.console import agents as console_agents
from api.console import assets as console_assets
from api.console import audit as console_audit
from api.console import auth as console_auth
from api.console import calls as console_calls
from api.console import channels as console_channels
from api.console import errors as console_errors
from api.console import incidents as console_incidents
from api.console import members as console_members
from api.console import overview as console_overview
from api.console import page_notices as console_page_notices
from api.console import pages as console_pages
from api.console import probe_detail as console_probe_detail
from api.console import probe_thresholds as console_thresholds
from api.console import probes as console_probes
from api.console import settings_pages as console_settings
from api.errors import ERROR_RESPONSES, NO_FRAMING, install_error_handlers
from api.middleware.body_limit import BodyLimit
from api.middleware.ratelimit import RateLimiter
from api.middleware.request_id import RequestId
from api.public import domain_check, static_assets
from api.public import routes as public_pages
from api.public.cache import PageCache
from api.public.domains import CustomDomainRouter
from api.public.fast_path import PublicFastPath
from api.routes import (
    agent,
    agents,
    audit,
    channels,
    deliveries,
    docs,
    health,
    incidents,
    keys,
    liveness,
    locations,
    maintenance,
    metrics,
    pages,
    probes,
    projects,
    push,
    results,
    thresholds,
)
from api.security.crypto import check_key
from api.services import notifications
from api.services.judging_queue import JudgingLoop
from api.services.retention import retain_forever
from api.services.sweeper import sweep_forever
from api.settings import Settings, get_settings
from api.state import AppState, of
from statuspages.bars import BarMemo
from store import page_events, status_pages
from store.errors import DatabaseUnavailable
from store.migrate import check_database, migrate_database
from store.pool import create_pool

ROUTERS: tuple[APIRouter, ...] = (
    projects.router,
    keys.router,
    locations.router,
    agents.router,
    probes.router,
    thresholds.router,
    maintenance.router,
    results.router,
    health.router,
    incidents.router,
    push.router,
    pages.router,
    channels.router,
    deliveries.router,
    audit.router,
    agent.router,
    metrics.router,
    public_pages.router,
    domain_check.router,
    static_assets.router,
    docs.router,
    liveness.router,
    console_auth.router,
    console_overview.router,
    console_probes.router,
    console_thresholds.router,
    console_probe_detail.router,
    console_calls.router,
    console_incidents.router,
    console_pages.router,
    console_page_notices.router,
    console_agents.router,
    console_settings.router,
    console_members.router,
    console_channels.router,
    console_audit.router,
    console_assets.router,
)
"""Every router the app serves, in documentation order (the console's are not in it)."""

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API app; its shared state is ``api.state.of(app)``, whose database pool opens
    in the lifespan."""
    app = FastAPI(
        title="callprobe",
        summary="SIP/VoIP synthetic-call probing",
        version="1",
        lifespan=_lifespan,
        responses=ERROR_RESPONSES,
        docs_url=None,  # api.routes.docs serves it without a CDN
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    settings = settings or get_settings()
    app.state.callprobe = AppState(
        settings=settings,
        push_limiter=RateLimiter("push token", settings.push_rate),
        public_limiter=RateLimiter("public page client", settings.public_rate),
        auth_limiter=RateLimiter("client failing authentication", settings.auth_fail_rate),
        login_limiter=RateLimiter("console sign-in client", settings.console_login_rate),
        page_cache=PageCache(),
        bar_memo=BarMemo(),
        guard=notifications.guard(settings),
    )
    install_error_handlers(app)
    console_errors.install(app)
    app.add_middleware(NoFramingMiddleware)
    app.add_middleware(PublicFastPath)
    app.add_middleware(CustomDomainRouter)
    app.add_middleware(  # before anything reads a body or authenticates
        BodyLimit,
        limit=settings.max_body_bytes,
        limits={"/v1/agent/results": settings.max_results_body_bytes},
    )
    app.add_middleware(RequestId)  # outermost: every log line of a request carries its id
    for router in ROUTERS:
        app.include_router(router)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    shared = of(app)
    settings = shared.settings
    check_key(settings)
    url = settings.resolved_database_url
    await asyncio.to_thread(migrate_database if settings.migrate_on_start else check_database, url)
    pool = create_pool(url, statement_timeout_ms=settings.statement_timeout_ms)
    await pool.open()
    shared.opened_pool = pool
    async with shared.statement() as conn:
        shared.domains = await status_pages.verified_domains(conn)
    shared.opened_judging = judging = JudgingLoop(pool)
    stop = asyncio.Event()
    try:
        async with notifications.dispatching(settings, pool, stop) as dispatcher:
            shared.opened_dispatcher = dispatcher
            background = [
                asyncio.create_task(
                    retain_forever(
                        pool, settings.retention_interval_s, settings.compress_after_days, stop
                    )
                ),
                asyncio.create_task(page_events.listen(url, _page_changed(app), stop)),
            ]
            if settings.judging:
                background += [
                    asyncio.create_task(
                        sweep_forever(pool, settings.sweep_interval_s, stop, judging)
                    ),
                    asyncio.create_task(judging.run(stop)),
                ]
            # Everything loaded so far lives as long as the process: moving it out of the
            # collector's generations keeps the full collections that a page render's
            # thousands of objects trigger from walking the whole import graph (uncached
            # p99 131 -> 102 ms when this went in).
            gc.freeze()
            try:
                yield
            finally:
                stop.set()
                await asyncio.gather(*background)
    finally:
        await pool.close()


def _page_changed(app: FastAPI) -> Callable[[str], None]:
    """Drops a changed page's cached renderings and reloads the custom domain map."""
    pending: set[asyncio.Task[None]] = set()

    async def reload_domains() -> None:
        try:
            async with of(app).statement() as conn:
                of(app).domains = await status_pages.verified_domains(conn)
        except DatabaseUnavailable:
            log.warning("custom domains not reloaded: database unavailable")

    def changed(slug: str) -> None:
        of(app).page_cache.invalidate(slug)
        task = asyncio.create_task(reload_domains())
        pending.add(task)
        task.add_done_callback(pending.discard)

    return changed


class NoFramingMiddleware:
    """Adds no-framing and ``Cache-Control: no-store`` headers a response did not set."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "content-security-policy" not in headers:
                    headers.update(NO_FRAMING)
                headers.setdefault("cache-control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)
