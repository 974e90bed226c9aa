"""The audit log (owners only): every change, newest first, with who and through what,
and for settings a compact before/after of the fields that changed; CSV export through
the API's own route."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.console import render
from api.console.session import Member, owner
from api.routes import audit as api_audit
from api.schemas.common import BIGINT_MAX
from api.state import of as state_of
from store.audit import Entry

router = APIRouter(prefix="/console/p/{project_id}/audit", include_in_schema=False)

PAGE = 100
EXPORT = 5000
SHOWN_CHARS = 160


@dataclass(frozen=True, kw_only=True, slots=True)
class Change:
    """One field that changed: its value before and after, as short JSON text."""

    field: str
    before: str
    after: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Line:
    entry: Entry
    changes: list[Change]


@router.get("", response_class=HTMLResponse)
async def audit_page(
    request: Request,
    seat: Member,
    before: Annotated[int | None, Query(ge=1, le=BIGINT_MAX)] = None,
) -> Response:
    owner(seat)
    st = state_of(request.app)
    rows = await api_audit.entries(st, seat.principal, before=before, limit=PAGE)
    lines = [Line(entry=row, changes=changes(row.before, row.after)) for row in rows]
    older = rows[-1].id if len(rows) == PAGE else None
    return render.page(
        request, "audit.html.j2", seat=seat, section="Audit log", lines=lines, older=older,
        paged=before is not None,
    )  # fmt: skip


@router.get("/export.csv", response_class=Response)
async def export(request: Request, seat: Member) -> Response:
    """The newest entries as CSV (the API's ``GET /v1/audit?format=csv``)."""
    owner(seat)
    return await api_audit.list_audit(
        principal=seat.principal, st=state_of(request.app), before=None, limit=EXPORT, fmt="csv"
    )


def changes(before: Any, after: Any) -> list[Change]:
    """The fields whose values differ (all of them for a creation or a deletion, but
    for empty ones)."""
    old = before if isinstance(before, dict) else {}
    new = after if isinstance(after, dict) else {}
    names = sorted(set(old) | set(new))
    return [
        Change(field=name, before=_short(old, name), after=_short(new, name))
        for name in names
        if old.get(name) != new.get(name) or (name in old) != (name in new)
        if old.get(name) is not None or new.get(name) is not None
    ]


def _short(values: dict[str, Any], name: str) -> str:
    if name not in values:
        return "-"
    text = json.dumps(values[name], sort_keys=True, default=str)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"
