"""The notification dispatcher as the API runs it: built from settings, one per process.

Channel secrets are sealed with the settings key (:mod:`api.security.crypto`), so the
API hands the dispatcher the function that opens them; page addresses come from
configuration (:mod:`api.public.urls`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from api.public.urls import page_address
from api.security.crypto import decrypt_secret, encrypt_secret
from api.settings import Settings
from notify.backoff import Backoff
from notify.dispatcher import Dispatcher, Loop, run
from notify.outbound import GuardedOutbound
from notify.ssrf import Guard
from store.pool import Pool


def guard(settings: Settings) -> Guard:
    """The SSRF guard: public addresses, plus the networks the operator allow-listed."""
    return Guard(settings.notify_allow_networks)


def seal(settings: Settings, secrets: dict[str, Any]) -> bytes:
    """A channel's secret fields, encrypted for the database."""
    return encrypt_secret(settings, json.dumps(secrets))


def unseal(settings: Settings, sealed: bytes) -> dict[str, Any]:
    """A channel's secret fields, decrypted."""
    opened: dict[str, Any] = json.loads(decrypt_secret(settings, sealed))
    return opened


@asynccontextmanager
async def dispatching(
    settings: Settings, pool: Pool, stop: asyncio.Event
) -> AsyncIterator[Dispatcher]:
    """Run this process's dispatcher loop until ``stop`` (unless ``notify_dispatch`` is
    off); yields the dispatcher, which the test-send route attempts through either way."""
    async with GuardedOutbound(guard(settings), settings.notify_timeout_s) as outbound:
        dispatcher = Dispatcher(
            pool=pool,
            outbound=outbound,
            unseal=partial(unseal, settings),
            timeout_s=settings.notify_timeout_s,
            backoff=Backoff(
                base_s=settings.notify_backoff_base_s,
                cap_s=settings.notify_backoff_cap_s,
                max_attempts=settings.notify_max_attempts,
            ),
        )
        loop = Loop(poll_s=settings.notify_poll_s, concurrency=settings.notify_concurrency)
        address = partial(page_address, settings.public_url)
        working = run(dispatcher, address, loop, stop) if settings.notify_dispatch else stop.wait()
        task = asyncio.create_task(working)
        try:
            yield dispatcher
        finally:
            stop.set()
            await task
