"""Incident follow-up: acknowledging an incident (who and when) and internal notes.

Listing incidents is in ``api/routes/health.py``. Notes are for the team: no public
page or feed shows them.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from api.schemas.incidents import NoteCreate
from api.security.auth import Principal, Reader, Writer
from api.services import audit
from api.state import State
from store import incident_notes
from store.incident_notes import Note, TrackedIncident

router = APIRouter(prefix="/v1/incidents", tags=["health"])


def _actor(principal: Principal) -> str:
    return principal.actor or "API key"


@router.post("/{incident_id}/acknowledge", response_model=TrackedIncident)
async def acknowledge_incident(
    incident_id: uuid.UUID, principal: Writer, st: State
) -> TrackedIncident:
    """Record that the caller (the key's or the user's name) is on it, now. Idempotent:
    a second acknowledgement keeps the first one's who and when."""
    async with st.transaction() as conn:
        await incident_notes.get_incident(conn, principal.project_id, incident_id)
        who = _actor(principal)
        if await incident_notes.acknowledge(conn, principal.project_id, incident_id, who):
            await audit.record(conn, principal, "acknowledge", "incident", incident_id,
                               after={"acknowledged_by": who})  # fmt: skip
        return await incident_notes.get_incident(conn, principal.project_id, incident_id)


@router.get("/{incident_id}/notes", response_model=list[Note])
async def list_notes(incident_id: uuid.UUID, principal: Reader, st: State) -> list[Note]:
    """The incident's internal notes, oldest first."""
    async with st.transaction() as conn:
        await incident_notes.get_incident(conn, principal.project_id, incident_id)
        return await incident_notes.notes(conn, principal.project_id, [incident_id])


@router.post("/{incident_id}/notes", status_code=201, response_model=Note)
async def add_note(incident_id: uuid.UUID, body: NoteCreate, principal: Writer, st: State) -> Note:
    """Add an internal note, signed with the caller's name."""
    async with st.transaction() as conn:
        await incident_notes.get_incident(conn, principal.project_id, incident_id)
        note = await incident_notes.add_note(conn, incident_id, _actor(principal), body.body)
        await audit.record(conn, principal, "create", "incident_note", note.id,
                           after={"incident_id": str(incident_id), "body": note.body})  # fmt: skip
        return note
