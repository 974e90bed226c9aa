"""Incidents: open ones first, then recent ones, each with its timeline (the probe's
transitions while it was open, and the team's notes); filtered by probe or by status
page; acknowledge and add notes through the API's own route functions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.console import forms, render
from api.console.forms import Problems
from api.console.session import Form, Member, Refused, Seat, editor
from api.routes import incidents as api_incidents
from api.schemas.incidents import NoteCreate
from api.state import of as state_of
from statuspages.incidents import human_duration
from store import incident_notes, probes, status_pages
from store.errors import NotFound
from store.incident_notes import Note, Step, TrackedIncident
from store.pool import AsyncConn

router = APIRouter(prefix="/console/p/{project_id}/incidents", include_in_schema=False)

LIMIT = 100


@dataclass(frozen=True, kw_only=True, slots=True)
class Moment:
    """A line of an incident's timeline: a state change or a note."""

    at: datetime
    step: Step | None = None
    note: Note | None = None


@dataclass(kw_only=True, slots=True)
class Row:
    """An incident as the screen shows it."""

    incident: TrackedIncident
    duration: str
    timeline: list[Moment] = field(default_factory=list)


@router.get("", response_class=HTMLResponse)
async def incidents_page(
    request: Request, seat: Member, probe: str = "", page: str = ""
) -> Response:
    return await _show(request, seat, probe=_uuid(probe), page=_uuid(page))


@router.post("/{incident_id}/acknowledge", response_class=Response)
async def acknowledge(
    request: Request, incident_id: uuid.UUID, seat: Member, posted: Form
) -> Response:
    editor(seat)
    await _owned(request, seat, incident_id)
    st, problems = state_of(request.app), Problems()
    done = await forms.attempt(
        lambda: api_incidents.acknowledge_incident(incident_id, seat.principal, st), problems
    )
    if done is None:
        return await _show(request, seat, failed={incident_id: problems})
    return render.redirect(f"{_base(seat)}#i-{incident_id}")


@router.post("/{incident_id}/notes", response_class=Response)
async def add_note(
    request: Request, incident_id: uuid.UUID, seat: Member, posted: Form
) -> Response:
    editor(seat)
    await _owned(request, seat, incident_id)
    st, problems = state_of(request.app), Problems()
    text = str(posted.get("body", ""))
    parsed = Problems()
    body = forms.parse(NoteCreate, {"body": text}, parsed)
    for message in parsed.by_field.values():  # the note's one field is its text
        problems.add("body", message)
    if body is not None:
        await forms.attempt(
            lambda: api_incidents.add_note(incident_id, body, seat.principal, st), problems
        )
    if problems:
        return await _show(request, seat, failed={incident_id: problems}, draft=text)
    return render.redirect(f"{_base(seat)}#i-{incident_id}")


async def _show(
    request: Request,
    seat: Seat,
    *,
    probe: uuid.UUID | None = None,
    page: uuid.UUID | None = None,
    failed: dict[uuid.UUID, Problems] | None = None,
    draft: str = "",
) -> Response:
    async with state_of(request.app).transaction() as conn:
        every_probe = await probes.list_probes(conn, seat.project_id)
        pages = await status_pages.list_pages(conn, seat.project_id)
        chosen = await _probe_filter(conn, seat, probe, page)
        rows = await _rows(conn, seat, chosen)
    return render.page(
        request,
        "incidents.html.j2",
        422 if failed else 200,
        seat=seat,
        section="Incidents",
        rows=rows,
        probes=every_probe,
        pages=pages,
        probe=probe,
        page=page,
        failed=failed or {},
        draft=draft,
    )


async def _probe_filter(
    conn: AsyncConn, seat: Seat, probe: uuid.UUID | None, page: uuid.UUID | None
) -> list[uuid.UUID] | None:
    """The probes whose incidents are shown (None: every probe)."""
    chosen: set[uuid.UUID] | None = None if probe is None else {probe}
    if page is not None and await status_pages.page_exists(conn, seat.project_id, page):
        shown = {c.probe_id for c in await status_pages.components(conn, page)}
        chosen = shown if chosen is None else chosen & shown
    return None if chosen is None else sorted(chosen)


async def _rows(conn: AsyncConn, seat: Seat, chosen: list[uuid.UUID] | None) -> list[Row]:
    found = await incident_notes.list_incidents(
        conn, seat.project_id, probe_ids=chosen, limit=LIMIT
    )
    ids = [i.id for i in found]
    now = datetime.now(UTC)
    rows = {
        i.id: Row(incident=i, duration=human_duration((i.resolved_at or now) - i.opened_at))
        for i in found
    }
    for step in await incident_notes.steps(conn, seat.project_id, ids):
        rows[step.incident_id].timeline.append(Moment(at=step.at, step=step))
    for note in await incident_notes.notes(conn, seat.project_id, ids):
        rows[note.incident_id].timeline.append(Moment(at=note.created_at, note=note))
    for row in rows.values():
        row.timeline.sort(key=lambda moment: moment.at)
    return list(rows.values())


async def _owned(request: Request, seat: Seat, incident_id: uuid.UUID) -> None:
    """The console's "not found" page for an incident of another project."""
    try:
        async with state_of(request.app).transaction() as conn:
            await incident_notes.get_incident(conn, seat.project_id, incident_id)
    except NotFound as exc:
        raise Refused(404, str(exc)) from exc


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None


def _base(seat: Seat) -> str:
    return f"/console/p/{seat.project_id}/incidents"
