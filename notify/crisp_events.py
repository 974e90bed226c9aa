"""Crisp's page-level ``status:health:changed``, for channels in Crisp format.

A page's health is its worst component's (healthy, sick, dead). After the router has
routed a pass's probe events, each page showing one of those probes is looked at: when
its health differs from what was last sent, one event per Crisp channel of the project
(all its pages, or those its rule names) is queued. While the page, its project or one
of its components' probes is in maintenance nothing is sent, and nothing is recorded as
sent, so the health as it stands when the window ends goes out then.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from notify.compose import crisp_event, page_health
from notify.maintenance import quiet_until
from notify.rules import Rules
from store import notices
from store.notices import NewDelivery, PageComponent, RouteChannel, Window
from store.pool import AsyncConn


async def page_events(
    conn: AsyncConn,
    pages: Iterable[uuid.UUID],
    channels: Sequence[tuple[RouteChannel, Rules]],
    windows: Sequence[Window],
    now: datetime,
) -> list[NewDelivery]:
    """The events of the ``pages`` whose health changed, for the Crisp ``channels``."""
    page_ids = set(pages)
    if not page_ids or not channels:
        return []
    told = await notices.page_health_told(conn, page_ids)
    by_page: dict[uuid.UUID, list[PageComponent]] = defaultdict(list)
    for component in await notices.page_components(conn, page_ids):
        by_page[component.page_id].append(component)
    queued: list[NewDelivery] = []
    for page_id, components in by_page.items():
        health = page_health(components)
        if told.get(page_id, "healthy") == health or _quiet(windows, page_id, components, now):
            continue
        await notices.save_page_health(conn, page_id, health, now)
        event = crisp_event(components[0].slug, components, now)
        queued += [
            NewDelivery(
                project_id=row.project_id,
                channel_id=row.id,
                event_id=None,
                order_key=f"page:{page_id}",
                kind=event.event,
                payload=event.model_dump(mode="json"),
            )
            for row, rules in channels
            if row.project_id == components[0].project_id
            and (not rules.pages or page_id in rules.pages)
        ]
    return queued


def _quiet(
    windows: Sequence[Window],
    page_id: uuid.UUID,
    components: Sequence[PageComponent],
    now: datetime,
) -> bool:
    return any(
        quiet_until(windows, c.project_id, c.probe_id, [page_id], now) is not None
        for c in components
    )
