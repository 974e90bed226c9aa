"""Probes in the console: the list with its filters, the create and edit forms of every
kind, and the per-probe actions (enable/disable, delete, run now).

Every change goes through the API's own route function with the API's own request model
(see :mod:`api.console.forms`); this module only turns forms into those calls and their
refusals into messages beside the fields.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.console import probe_forms, render
from api.console.forms import Problems, attempt
from api.console.session import Form, Member, Refused, Seat, editor
from api.routes import probes as api_probes
from api.schemas.probes import ProbeCreate, ProbePatch
from api.state import of as state_of
from probes.kinds.options import KINDS
from store import health, locations
from store.errors import NotFound
from store.probes import Probe
from thresholds.states import State

router = APIRouter(prefix="/console/p/{project_id}/probes", include_in_schema=False)

NOTICES = {
    "created": "Probe created.",
    "saved": "Probe saved.",
    "deleted": "Probe deleted.",
    "enabled": "Probe enabled.",
    "disabled": "Probe disabled.",
}
STATES = tuple(state.value for state in State)


@router.get("", response_class=HTMLResponse)
async def probe_list(
    request: Request, seat: Member, *, kind: str = "", state: str = "", location: str = "",
    tag: str = "", done: str = "", queued: int | None = None,
) -> Response:  # fmt: skip
    """Every probe with its state; filtered by the query's kind, state, location and tag."""
    found = await api_probes.list_probes(seat.principal, state_of(request.app))
    states = await _states(request, [probe.id for probe in found])
    wanted = {"kind": kind, "state": state, "location": location, "tag": tag}
    shown = [p for p in found if _matches(p, states.get(p.id, "unknown"), wanted)]
    notice = NOTICES.get(done) or (_queued(queued) if queued is not None else None)
    return await _list_page(request, seat, shown, states, found, wanted=wanted, notice=notice)


@router.get("/new", response_class=HTMLResponse)
async def new_form(request: Request, seat: Member, kind: str = "sip_call") -> Response:
    kind = kind if kind in KINDS else "sip_call"
    return await _form(request, seat, kind, probe_forms.blank(kind), Problems())


@router.post("/new", response_class=Response)
async def create(request: Request, seat: Member, posted: Form) -> Response:
    """Create a probe with ``create_probe``; the form again, with messages, when refused."""
    editor(seat)
    kind = str(posted.get("kind", ""))
    if kind not in KINDS:
        return render.redirect(f"/console/p/{seat.project_id}/probes/new")
    problems = Problems()
    data = {"kind": kind, **probe_forms.body(kind, posted, problems)}
    model = probe_forms.check(ProbeCreate, kind, data, problems)
    st = state_of(request.app)
    if model is not None and not problems:
        made = await attempt(lambda: api_probes.create_probe(model, seat.principal, st), problems)
        if made is not None:
            return render.redirect(f"/console/p/{seat.project_id}/probes?done=created")
    values = probe_forms.posted_values(kind, posted)
    return await _form(request, seat, kind, values, problems, status=422)


@router.get("/{probe_id:uuid}/edit", response_class=HTMLResponse)
async def edit_form(request: Request, seat: Member, probe_id: uuid.UUID) -> Response:
    probe = await probe_of(request, seat, probe_id)
    values = probe_forms.stored(probe)
    return await _form(request, seat, probe.kind, values, Problems(), probe=probe)


@router.post("/{probe_id:uuid}/edit", response_class=Response)
async def save(request: Request, seat: Member, probe_id: uuid.UUID, posted: Form) -> Response:
    """Change a probe with ``update_probe``. An empty secret field keeps the stored secret,
    unless the API's rule cleared it (where it is sent changed): then the form says so."""
    editor(seat)
    st = state_of(request.app)
    before = await probe_of(request, seat, probe_id)
    problems = Problems()
    data = probe_forms.body(before.kind, posted, problems)
    patch = probe_forms.check(ProbePatch, before.kind, data, problems)
    after = None
    if patch is not None and not problems:
        after = await attempt(
            lambda: api_probes.update_probe(probe_id, patch, seat.principal, st), problems
        )
    values = probe_forms.posted_values(before.kind, posted)
    if after is None:
        return await _form(request, seat, before.kind, values, problems, probe=before, status=422)
    if before.has_secret and not after.has_secret and "secret" not in data:
        problems.add("secret", "cleared: where it is sent changed, so enter it again")
        notice = "Saved."
        return await _form(request, seat, after.kind, values, problems, probe=after, notice=notice)
    return render.redirect(f"/console/p/{seat.project_id}/probes?done=saved")


@router.post("/{probe_id:uuid}/enabled", response_class=Response)
async def set_enabled(
    request: Request, seat: Member, probe_id: uuid.UUID, posted: Form
) -> Response:
    """Enable (``enabled=true``) or disable the probe."""
    editor(seat)
    await probe_of(request, seat, probe_id)
    enabled = posted.get("enabled") == "true"
    patch = ProbePatch(enabled=enabled)
    st = state_of(request.app)
    await api_probes.update_probe(probe_id, patch, seat.principal, st)
    done = "enabled" if enabled else "disabled"
    return render.redirect(f"/console/p/{seat.project_id}/probes?done={done}")


@router.post("/{probe_id:uuid}/delete", response_class=Response)
async def delete(request: Request, seat: Member, probe_id: uuid.UUID, posted: Form) -> Response:
    editor(seat)
    await probe_of(request, seat, probe_id)
    await api_probes.delete_probe(probe_id, seat.principal, state_of(request.app))
    return render.redirect(f"/console/p/{seat.project_id}/probes?done=deleted")


@router.post("/{probe_id:uuid}/run", response_class=Response)
async def run_now(request: Request, seat: Member, probe_id: uuid.UUID, posted: Form) -> Response:
    """Queue a one-off run with ``run_probe``; the list says at how many locations, or why
    not (409: disabled, push, no location)."""
    editor(seat)
    await probe_of(request, seat, probe_id)
    problems = Problems()
    st = state_of(request.app)
    queued = await attempt(lambda: api_probes.run_probe(probe_id, seat.principal, st), problems)
    if queued is not None:
        detail = f"/console/p/{seat.project_id}/probes/{probe_id}"
        return render.redirect(f"{detail}?queued={queued.locations}#results-h")
    found = await api_probes.list_probes(seat.principal, st)
    states = await _states(request, [probe.id for probe in found])
    error = problems.get("") or "the run was refused"
    return await _list_page(request, seat, found, states, found, error=error, status=409)


async def probe_of(request: Request, seat: Seat, probe_id: uuid.UUID) -> Probe:
    """The project's probe through the API's ``get_probe``; one that is not there (another
    project's, or deleted) is the console's 404 page rather than the API's JSON."""
    try:
        return await api_probes.get_probe(probe_id, seat.principal, state_of(request.app))
    except NotFound as exc:
        raise Refused(404, "no such probe in this project") from exc


async def _states(request: Request, probe_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Each probe's overall state (as judged: '' is the probe as a whole)."""
    async with state_of(request.app).transaction() as conn:
        rows = await health.health_rows(conn, probe_ids)
    return {row.probe_id: row.state for row in rows if row.location == ""}


def _matches(probe: Probe, state: str, wanted: dict[str, str]) -> bool:
    return (
        wanted["kind"] in ("", probe.kind)
        and wanted["state"] in ("", state)
        and (not wanted["location"] or wanted["location"] in probe.locations)
        and (not wanted["tag"] or wanted["tag"] in probe.tags)
    )


def _queued(count: int) -> str:
    return f"Run queued at {count} location{'' if count == 1 else 's'}."


async def _list_page(
    request: Request, seat: Seat, shown: list[Probe], states: dict[uuid.UUID, str],
    every: list[Probe], *, status: int = 200, **context: Any,
) -> Response:  # fmt: skip
    async with state_of(request.app).transaction() as conn:
        places = [place.name for place in await locations.list_locations(conn, seat.project_id)]
    tags = sorted({tag for probe in every for tag in probe.tags})
    context.setdefault("wanted", {"kind": "", "state": "", "location": "", "tag": ""})
    return render.page(request, "probes.html.j2", status, seat=seat, section="Probes",
                       probes=shown, states=states, total=len(every), kinds=KINDS,
                       kind_labels=probe_forms.KIND_LABELS, all_states=STATES,
                       places=places, tags=tags, **context)  # fmt: skip


async def _form(
    request: Request, seat: Seat, kind: str, values: dict[str, Any], problems: Problems,
    *, probe: Probe | None = None, status: int = 200, notice: str | None = None,
) -> Response:  # fmt: skip
    """The create (``probe`` None) or edit form of ``kind``, read-only for a viewer."""
    async with state_of(request.app).transaction() as conn:
        places = [place.name for place in await locations.list_locations(conn, seat.project_id)]
    return render.page(request, "probe_form.html.j2", status, seat=seat, section="Probes",
                       kind=kind, kinds=KINDS, kind_labels=probe_forms.KIND_LABELS,
                       fields=probe_forms.option_fields(kind), values=values,
                       problems=problems, probe=probe, places=places, notice=notice,
                       secret_label=probe_forms.SECRET_KINDS.get(kind),
                       readonly=not seat.may("editor"))  # fmt: skip
