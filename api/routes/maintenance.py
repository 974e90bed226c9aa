"""Maintenance windows of the caller's project: time that does not count against uptime."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from api.errors import invalid
from api.public.renderings import forget
from api.schemas.maintenance import MaintenanceCreate
from api.security.auth import Reader, Writer
from api.services import audit
from api.services.snapshots import settings
from api.state import State
from store import maintenance, page_events, probes, status_pages
from store.pool import AsyncConn

router = APIRouter(prefix="/v1/maintenance", tags=["maintenance"])


@router.get("", response_model=list[maintenance.MaintenanceWindow])
async def list_windows(principal: Reader, st: State) -> list[maintenance.MaintenanceWindow]:
    """The project's windows by start."""
    async with st.transaction() as conn:
        return await maintenance.list_windows(conn, principal.project_id)


@router.post("", status_code=201, response_model=maintenance.MaintenanceWindow)
async def create_window(
    body: MaintenanceCreate, principal: Writer, request: Request, st: State
) -> maintenance.MaintenanceWindow:
    """Plan a window for one probe of the project, a page, or the whole project."""
    async with st.transaction() as conn:
        if body.probe_id is not None and not await probes.probe_exists(
            conn, principal.project_id, body.probe_id
        ):
            raise invalid(("body", "probe_id"), "unknown probe")
        if body.page_id is not None and not await status_pages.page_exists(
            conn, principal.project_id, body.page_id
        ):
            raise invalid(("body", "page_id"), "unknown status page")
        row = await maintenance.create_window(
            conn, principal.project_id, probe_id=body.probe_id, page_id=body.page_id,
            title=body.title, starts_at=body.starts_at, ends_at=body.ends_at,
        )  # fmt: skip
        await audit.record(
            conn, principal, "create", "maintenance_window", row.id, after=settings(row)
        )
        slugs = await _announce_pages(conn, principal.project_id)
    forget(request, slugs)
    return row


@router.delete("/{window_id}", status_code=204, response_class=Response)
async def delete_window(
    window_id: uuid.UUID, principal: Writer, request: Request, st: State
) -> None:
    """Remove a window."""
    async with st.transaction() as conn:
        await maintenance.delete_window(conn, principal.project_id, window_id)
        await audit.record(conn, principal, "delete", "maintenance_window", window_id)
        slugs = await _announce_pages(conn, principal.project_id)
    forget(request, slugs)


async def _announce_pages(conn: AsyncConn, project_id: uuid.UUID) -> list[str]:
    """Windows change what the project's status pages show: tell every API process."""
    slugs = await status_pages.project_slugs(conn, project_id)
    for slug in slugs:
        await page_events.announce(conn, slug)
    return slugs
