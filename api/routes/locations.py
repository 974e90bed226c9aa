"""Locations of the caller's project: where agents run probes from."""

from __future__ import annotations

import uuid
from dataclasses import asdict

from fastapi import APIRouter, Response

from api.schemas.locations import LocationCreate, LocationOut
from api.security.auth import Reader, Writer
from api.state import State
from store import locations

router = APIRouter(prefix="/v1/locations", tags=["locations"])


@router.get("", response_model=list[LocationOut])
async def list_locations(principal: Reader, st: State) -> list[LocationOut]:
    """The project's locations by name."""
    async with st.transaction() as conn:
        rows = await locations.list_locations(conn, principal.project_id)
    return [LocationOut.model_validate(asdict(row)) for row in rows]


@router.post("", status_code=201, response_model=LocationOut)
async def create_location(body: LocationCreate, principal: Writer, st: State) -> LocationOut:
    """Add a location (409 when the name exists)."""
    async with st.transaction() as conn:
        row = await locations.create_location(conn, principal.project_id, body.name)
    return LocationOut.model_validate(asdict(row))


@router.get("/{location_id}", response_model=LocationOut)
async def get_location(location_id: uuid.UUID, principal: Reader, st: State) -> LocationOut:
    """One location."""
    async with st.transaction() as conn:
        row = await locations.get_location(conn, principal.project_id, location_id)
    return LocationOut.model_validate(asdict(row))


@router.delete("/{location_id}", status_code=204, response_class=Response)
async def delete_location(location_id: uuid.UUID, principal: Writer, st: State) -> None:
    """Delete a location with its agents; probes stop running there."""
    async with st.transaction() as conn:
        await locations.delete_location(conn, principal.project_id, location_id)
