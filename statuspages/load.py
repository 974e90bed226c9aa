"""Reads what a public page shows from the store and builds its view model."""

from __future__ import annotations

from datetime import UTC, datetime

from statuspages.bars import BarMemo
from statuspages.view import PageView, build, history_start
from store import page_data, state_history, status_pages
from store.pool import AsyncConn
from store.status_pages import Page

FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


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
