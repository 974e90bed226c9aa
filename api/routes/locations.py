"""Locations of the caller's project: where agents run probes from."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from api.schemas.locations import LocationCreate, LocationOut
from api.security.auth import Reader, Writer
from api.services import audit
from api.services.snapshots import settings
from api.state import State
from store import locations

router = APIRouter(prefix="/v1/locations", tags=["locations"])


@router.get("", response_model=list[LocationOut])
async def list_locations(principal: Reader, st: State) -> list[locations.Location]:
    """The project's locations by name."""
    async with st.transaction() as conn:
        return await locations.list_locations(conn, principal.project_id)


@router.post("", status_code=201, response_model=LocationOut)
async def create_location(body: LocationCreate, principal: Writer, st: State) -> locations.Location:
    """Add a location (409 when the name exists)."""
    async with st.transaction() as conn:
        made = await locations.create_location(conn, principal.project_id, body.name)
        await audit.record(conn, principal, "create", "location", made.id, after=settings(made))
        return made


@router.get("/{location_id}", response_model=LocationOut)
async def get_location(location_id: uuid.UUID, principal: Reader, st: State) -> locations.Location:
    """One location."""
    async with st.transaction() as conn:
        return await locations.get_location(conn, principal.project_id, location_id)


@router.delete("/{location_id}", status_code=204, response_class=Response)
async def delete_location(location_id: uuid.UUID, principal: Writer, st: State) -> None:
    """Delete a location with its agents; probes stop running there."""
    async with st.transaction() as conn:
        gone = await locations.get_location(conn, principal.project_id, location_id)
        await locations.delete_location(conn, principal.project_id, location_id)
        await audit.record(
            conn, principal, "delete", "location", location_id, before=settings(gone)
        )
