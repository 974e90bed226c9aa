"""The thresholds editor: a warning and a critical bound per metric of a probe, with
presets to start from (applied by the server: ``?preset=carrier_g711`` fills the form in,
nothing is saved until the user saves).

Saving checks every row with the API's own ``Bounds`` model and ``Rule`` first (so a
mistake in one row saves none), then calls the API's thresholds route functions: PUT
for a row that changed, DELETE for a row emptied.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.console import render
from api.console.forms import Problems, attempt, parse
from api.console.probe_forms import shown
from api.console.probes import probe_of
from api.console.session import Form, Member, Seat, editor
from api.routes import thresholds as api_thresholds
from api.schemas.thresholds import Bounds
from api.state import AppState
from api.state import of as state_of
from store.probes import Probe
from thresholds.metrics import METRICS
from thresholds.rules import InvalidRule, Rule

router = APIRouter(prefix="/console/p/{project_id}/probes", include_in_schema=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class Preset:
    label: str
    about: str
    bounds: dict[str, tuple[float, float]]
    """Metric name -> (warning, critical), in the metric's own unit."""


_VOICE = {"loss_pct": (1.0, 3.0), "jitter_ms": (20.0, 40.0), "pdd_ms": (3000.0, 6000.0)}
PRESETS = {
    "carrier_g711": Preset(
        label="Carrier-grade G.711",
        about="Narrowband PESQ (P.862.1); a clean PCMU call scores about 4.2-4.3.",
        bounds={"mos": (4.0, 3.6), **_VOICE},
    ),
    "wideband_g722": Preset(
        label="Wideband G.722",
        about="Wideband PESQ (P.862.2) has its own scale: a clean G.722 call scores about"
        " 3.1-3.3, so its bounds are lower than G.711's.",
        bounds={"mos": (3.0, 2.6), **_VOICE},
    ),
    "best_effort": Preset(
        label="Best effort",
        about="Internet trunks and softphones: alerts only when calls become hard to use.",
        bounds={
            "mos": (3.5, 3.0),
            "loss_pct": (3.0, 8.0),
            "jitter_ms": (40.0, 80.0),
            "pdd_ms": (5000.0, 10000.0),
        },
    ),
}


@router.get("/{probe_id:uuid}/thresholds", response_class=HTMLResponse)
async def editor_page(
    request: Request, seat: Member, probe_id: uuid.UUID, preset: str = "", done: str = ""
) -> Response:
    """The probe's rules; a known ``preset`` fills its metrics in over the stored ones."""
    probe, values = await _stored(request, seat, probe_id)
    chosen = PRESETS.get(preset)
    for metric, (warning, critical) in chosen.bounds.items() if chosen else ():
        values[metric] = {"warning": shown(warning), "critical": shown(critical)}
    notice = "Thresholds saved." if done == "saved" else None
    if chosen:
        notice = f"Preset “{chosen.label}” filled in: adjust it if you like, then save."
    return _page(request, seat, probe, values, Problems(), notice=notice)


@router.post("/{probe_id:uuid}/thresholds", response_class=Response)
async def save(request: Request, seat: Member, probe_id: uuid.UUID, posted: Form) -> Response:
    editor(seat)
    probe, stored = await _stored(request, seat, probe_id)
    values = {m: {k: str(posted.get(f"{k}.{m}", "")).strip() for k in _LEVELS} for m in METRICS}
    problems = Problems()
    rules = {metric: _rule(metric, bounds, problems) for metric, bounds in values.items()}
    if problems:
        return _page(request, seat, probe, values, problems, status=422)
    st = state_of(request.app)
    changed = [(m, b) for m, b in rules.items() if values[m] != stored.get(m, _EMPTY)]
    for metric, bounds in changed:
        await attempt(partial(_apply, seat, probe_id, metric, bounds, st), problems)
    if problems:
        return _page(request, seat, probe, values, problems, status=422)
    return render.redirect(f"/console/p/{seat.project_id}/probes/{probe_id}/thresholds?done=saved")


async def _apply(
    seat: Seat, probe_id: uuid.UUID, metric: str, bounds: Bounds | None, st: AppState
) -> None:
    """One row through the API: PUT its bounds, or DELETE the rule when emptied."""
    if bounds is None:
        await api_thresholds.delete_threshold(probe_id, metric, seat.principal, st)
    else:
        await api_thresholds.put_threshold(probe_id, metric, bounds, seat.principal, st)


_LEVELS = ("warning", "critical")
_EMPTY = {"warning": "", "critical": ""}


def _rule(metric: str, values: dict[str, str], problems: Problems) -> Bounds | None:
    """A row as the API's ``Bounds`` (None for an empty row), checked by ``Rule``."""
    if not any(values.values()):
        return None
    found = Problems()
    bounds = parse(Bounds, {k: v or None for k, v in values.items()}, found)
    for where, message in found.by_field.items():
        problems.add(f"{where}.{metric}", message)
    if bounds is None:
        return None
    try:
        Rule(metric=metric, warning=bounds.warning, critical=bounds.critical)
    except InvalidRule as exc:
        problems.add(f"critical.{metric}", str(exc))
    return bounds


async def _stored(
    request: Request, seat: Seat, probe_id: uuid.UUID
) -> tuple[Probe, dict[str, dict[str, str]]]:
    st = state_of(request.app)
    probe = await probe_of(request, seat, probe_id)
    rules = await api_thresholds.list_thresholds(probe_id, seat.principal, st)
    values = {r.metric: {"warning": shown(r.warning), "critical": shown(r.critical)} for r in rules}
    return probe, values


def _page(
    request: Request, seat: Seat, probe: Probe, values: dict[str, Any], problems: Problems,
    *, status: int = 200, notice: str | None = None,
) -> Response:  # fmt: skip
    return render.page(request, "thresholds.html.j2", status, seat=seat, section="Probes",
                       probe=probe, metrics=list(METRICS.values()), values=values,
                       problems=problems, presets=PRESETS, notice=notice,
                       readonly=not seat.may("editor"))  # fmt: skip
