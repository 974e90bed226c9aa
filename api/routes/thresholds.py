"""Threshold rules of a probe: one per metric, checked by :class:`thresholds.rules.Rule`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Response

from api.errors import invalid
from api.schemas.thresholds import Bounds, ThresholdCreate, ThresholdOut
from api.security.auth import Reader, Writer
from api.state import State
from store import probes, thresholds
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
        return await thresholds.add_threshold(conn, principal.project_id, probe_id, rule)


@router.put("/{metric}", response_model=ThresholdOut)
async def put_threshold(
    probe_id: uuid.UUID, metric: Metric, body: Bounds, principal: Writer, st: State
) -> thresholds.Threshold:
    """Create or replace the rule on ``metric``."""
    async with st.transaction() as conn:
        await probes.get_probe(conn, principal.project_id, probe_id)
        rule = _rule(metric, body)
        return await thresholds.put_threshold(conn, principal.project_id, probe_id, rule)


@router.delete("/{metric}", status_code=204, response_class=Response)
async def delete_threshold(
    probe_id: uuid.UUID, metric: Metric, principal: Writer, st: State
) -> None:
    """Remove the rule on ``metric``."""
    async with st.transaction() as conn:
        await probes.get_probe(conn, principal.project_id, probe_id)
        await thresholds.delete_threshold(conn, principal.project_id, probe_id, metric)


def _rule(metric: str, bounds: Bounds) -> Rule:
    try:
        return Rule(metric=metric, warning=bounds.warning, critical=bounds.critical)
    except InvalidRule as exc:
        raise invalid(("body",), str(exc)) from exc
