"""Threshold rules of a probe: one per metric, checked by :class:`thresholds.rules.Rule`."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from api.errors import invalid
from api.schemas.thresholds import Bounds, ThresholdCreate, ThresholdOut
from api.security.auth import Reader, Writer
from api.services import audit
from api.services.snapshots import settings
from api.state import State
from store import probes, thresholds
from store.pool import AsyncConn
from thresholds.rules import InvalidRule, Rule

router = APIRouter(prefix="/v1/probes/{probe_id}/thresholds", tags=["thresholds"])

Metric = Annotated[str, Path(max_length=100)]


@router.get("", response_model=list[ThresholdOut])
async def list_thresholds(
    probe_id: uuid.UUID, principal: Reader, st: State
) -> list[thresholds.Threshold]:
    """The probe's rules by metric."""
    async with st.transaction() as conn:
        await probes.get_probe(conn, principal.project_id, probe_id)
        return await thresholds.list_thresholds(conn, principal.project_id, probe_id)


@router.post("", status_code=201, response_model=ThresholdOut)
async def add_threshold(
    probe_id: uuid.UUID, body: ThresholdCreate, principal: Writer, st: State
) -> thresholds.Threshold:
    """Add a rule on a metric (409 when the metric has one: PUT replaces)."""
    async with st.transaction() as conn:
        await probes.get_probe(conn, principal.project_id, probe_id)
        rule = _rule(body.metric, body)
        made = await thresholds.add_threshold(conn, principal.project_id, probe_id, rule)
        await audit.record(conn, principal, "create", "threshold", probe_id, after=_bounds(made))
        return made


@router.put("/{metric}", response_model=ThresholdOut)
async def put_threshold(
    probe_id: uuid.UUID, metric: Metric, body: Bounds, principal: Writer, st: State
) -> thresholds.Threshold:
    """Create or replace the rule on ``metric``."""
    async with st.transaction() as conn:
        await probes.get_probe(conn, principal.project_id, probe_id)
        rule = _rule(metric, body)
        before = await _current(conn, principal.project_id, probe_id, metric)
        made = await thresholds.put_threshold(conn, principal.project_id, probe_id, rule)
        await audit.record(
            conn, principal, "update" if before else "create", "threshold", probe_id,
            before=before, after=_bounds(made),
        )  # fmt: skip
        return made


@router.delete("/{metric}", status_code=204, response_class=Response)
async def delete_threshold(
    probe_id: uuid.UUID, metric: Metric, principal: Writer, st: State
) -> None:
    """Remove the rule on ``metric``."""
    async with st.transaction() as conn:
        await probes.get_probe(conn, principal.project_id, probe_id)
        before = await _current(conn, principal.project_id, probe_id, metric)
        await thresholds.delete_threshold(conn, principal.project_id, probe_id, metric)
        await audit.record(conn, principal, "delete", "threshold", probe_id, before=before)


async def _current(
    conn: AsyncConn, project_id: uuid.UUID, probe_id: uuid.UUID, metric: str
) -> dict[str, Any] | None:
    """The probe's rule on ``metric`` as the audit log shows it (None when there is none)."""
    for row in await thresholds.list_thresholds(conn, project_id, probe_id):
        if row.metric == metric:
            return _bounds(row)
    return None


def _bounds(row: thresholds.Threshold) -> dict[str, Any]:
    return settings(row, only=("metric", "warning", "critical"))


def _rule(metric: str, bounds: Bounds) -> Rule:
    try:
        return Rule(metric=metric, warning=bounds.warning, critical=bounds.critical)
    except InvalidRule as exc:
        raise invalid(("body",), str(exc)) from exc
