"""Request bodies of incident follow-up (an acknowledged incident and its notes are
answered as stored: :class:`store.incident_notes.TrackedIncident`,
:class:`store.incident_notes.Note`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from api.schemas.common import InputModel, no_nul

NoteText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=10000),
    AfterValidator(no_nul),
]


class NoteCreate(InputModel):
    """An internal note: for the team, never shown on a public page."""

    body: NoteText = Field(description="Plain text, shown escaped")
