"""Reads what a public page shows from the store and builds its documents.

The only part of ``statuspages`` that does I/O: each function takes a connection,
reads through ``store`` and returns a view model or document built by the pure
modules beside it. Routes hold the transaction and send the bytes.
"""

from __future__ import annotations

from datetime import UTC, datetime

from statuspages.bars import BarMemo
from statuspages.charts import Window
from statuspages.sla import SlaReport, month_bounds, report
from statuspages.view import PageView, build, history_start
from store import page_data, state_history, status_pages
from store.errors import NotFound
from store.page_data import BucketMetrics
from store.pool import AsyncConn
from store.status_pages import Page, StoredImage

FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


async def published_view(
    conn: AsyncConn, slug: str, now: datetime, memo: BarMemo | None = None
) -> PageView:
    """The page published at ``slug`` as of ``now``; NotFound when there is none."""
    page = await status_pages.page_by_slug(conn, slug)
    if page is None:
        raise NotFound("no status page is published here")
    return await page_view(conn, page, now, memo)


async def page_view(
    conn: AsyncConn, page: Page, now: datetime, memo: BarMemo | None = None
) -> PageView:
    """The page as of ``now``: five queries whatever the number of components."""
    components = await status_pages.components(conn, page.id)
    probe_ids = [c.probe_id for c in components]
    start = history_start(page, now)
    histories = await state_history.state_histories(conn, probe_ids, start, now)
    current = await page_data.current_states(conn, probe_ids)
    windows = await page_data.planned_windows(
        conn, page.project_id, page.id, probe_ids, start=start, end=FAR_FUTURE
    )
    notices = await status_pages.announcements(conn, page.id)
    return build(
        page,
        components=components,
        histories=histories,
        current=current,
        windows=windows,
        announcements=notices,
        now=now,
        memo=memo,
    )


async def component_series(
    conn: AsyncConn, view: PageView, public_id: str, span: Window
) -> list[BucketMetrics]:
    """The component's metric means per bucket of ``span``, for its charts."""
    for component in await status_pages.components(conn, view.page.id):
        if component.public_id == public_id:
            return await page_data.metric_buckets(
                conn,
                component.probe_id,
                start=span.start,
                end=span.end,
                width=span.width,
                zone=view.zone.key,
            )
    raise NotFound("no such component on this page")


async def sla_report(conn: AsyncConn, view: PageView, month: str) -> SlaReport:
    """The page's SLA report for ``month`` (``YYYY-MM``), up to the view's ``now``."""
    start, end = month_bounds(month, view.zone)
    page = view.page
    components = await status_pages.components(conn, page.id)
    ids = [c.probe_id for c in components]
    histories = await state_history.state_histories(conn, ids, start, min(end, view.now))
    windows = await page_data.planned_windows(
        conn, page.project_id, page.id, ids, start=start, end=end
    )
    return report(
        page, month=month, components=components, histories=histories, windows=windows, now=view.now
    )


async def image(conn: AsyncConn, view: PageView, slot: str) -> StoredImage:
    """The page's branding image in ``slot``; NotFound when it has none there."""
    stored = await status_pages.image(conn, view.page.id, slot)
    if stored is None:
        raise NotFound("this page has no such image")
    return stored
