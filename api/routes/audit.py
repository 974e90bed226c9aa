"""The audit log of the caller's project, newest first: JSON pages or a CSV export.

CSV cells are neutralised against formula injection (:mod:`statuspages.csv_cells`):
actor names and settings hold user text.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter

from api.schemas.common import BIGINT_MAX
from api.security.auth import Principal, Reader
from api.state import AppState, State
from statuspages.csv_cells import csv_cell
from store import audit

router = APIRouter(prefix="/v1/audit", tags=["audit"])

COLUMNS = tuple(field.name for field in dataclasses.fields(audit.Entry))
_ENTRIES = TypeAdapter(list[audit.Entry])
_CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}}
}

Format = Literal["json", "csv"]


@router.get("", response_model=list[audit.Entry], responses=_CSV)
async def list_audit(
    *,
    principal: Reader,
    st: State,
    before: Annotated[
        int | None, Query(ge=1, le=BIGINT_MAX, description="An id: older entries only")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 100,
    fmt: Annotated[Format, Query(alias="format")] = "json",
) -> Response:
    """The project's changes, newest first; page back with ``before`` set to the last
    ``id`` seen. ``format=csv`` answers the same entries as CSV."""
    rows = await entries(st, principal, before=before, limit=limit)
    if fmt == "csv":
        return Response(
            as_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": 'attachment; filename="audit.csv"'},
        )
    return JSONResponse(_ENTRIES.dump_python(rows, mode="json"))


async def entries(
    st: AppState, principal: Principal, *, before: int | None, limit: int
) -> list[audit.Entry]:
    """The project's entries, newest first (what the console's page shows too)."""
    async with st.transaction() as conn:
        return await audit.entries(conn, principal.project_id, before_id=before, limit=limit)


def as_csv(rows: Sequence[audit.Entry]) -> str:
    """The entries as CSV, settings as compact JSON text."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(
            [
                row.id,
                row.at.isoformat(),
                csv_cell(row.actor),
                row.via,
                csv_cell(row.action),
                row.target_type,
                row.target_id or "",
                _json(row.before),
                _json(row.after),
            ]
        )
    return out.getvalue()


def _json(value: Any) -> object:
    return "" if value is None else csv_cell(json.dumps(value, sort_keys=True, default=str))
