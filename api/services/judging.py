"""Judge probes: results from the store through the pure threshold engine, changes recorded.

Called by the background evaluator for probes with new results (``api.services.judging_queue``)
and by the sweeper on a clock (so silence turns into ``unknown`` or, for push
probes, ``unhealthy``).
Each probe is evaluated under a transaction-scoped advisory lock, so API replicas
evaluating the same probe at once record a transition only once.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from probes.result import CallResult, Outcome
from store import health
from store.pool import AsyncConn, Pool, transaction
from thresholds.evaluate import Evaluation, Observation, Reason, evaluate
from thresholds.metrics import WINDOWED
from thresholds.rules import Policy, Rule
from thresholds.states import State

log = logging.getLogger(__name__)

HISTORY_CAP = 30
"""At most this many newest results per location are fed to the engine."""

HISTORY_SPAN = timedelta(days=2)

CHUNK = 25
"""Probes judged per transaction: judging runs on the API's event loop, and a chunk's
history (up to 30 results per location) is parsed there in one go."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Change:
    """A recorded transition of one probe's overall state."""

    probe_id: uuid.UUID
    at: datetime
    from_state: str
    to_state: str
    cause: str


NOT_ATTEMPTED = (Outcome.INVALID_INPUT, Outcome.ENGINE_ERROR)
"""Runs that never reached the far end: not seizures, so outside ASR and SCR."""

NOT_COMPLETED = (Outcome.DROPPED, Outcome.NEGOTIATION_FAILED)
"""Answered calls that are not completed sessions (RFC 6076 SCR)."""


def observation(result: CallResult) -> Observation:
    """The engine's view of one result: its outcome and metric values by metric name."""
    loss = [v for v in (result.rx_loss_pct, result.tx_loss_pct) if v is not None]
    values: dict[str, float | None] = {
        "mos": result.pesq_mos if result.pesq_mos is not None else result.emodel_mos,
        "pesq_mos": result.pesq_mos,
        "emodel_mos": result.emodel_mos,
        "r_factor": result.r_factor,
        "jitter_ms": result.jitter_ms,
        "loss_pct": max(loss) if loss else None,
        "rtt_ms": result.rtt_ms,
        "pdd_ms": result.pdd_ms,
        "setup_ms": result.setup_ms,
        "register_ms": result.register_ms,
        "latency_ms": result.latency_ms,
        "load_cpu": result.load_cpu,
        "load_ram": result.load_ram,
    }
    answered = completed = None
    if result.kind == "sip_call" and result.outcome not in NOT_ATTEMPTED:
        answered = result.sip_status is not None and 200 <= result.sip_status < 300
        completed = answered and result.outcome not in NOT_COMPLETED
    return Observation(
        run_id=str(result.run_id),
        at=result.started_at,
        location=result.location or "",
        ok=result.outcome is Outcome.OK,
        outcome=_outcome_text(result),
        values=values,
        answered=answered,
        completed=completed,
    )


def _outcome_text(result: CallResult) -> str:
    code = result.sip_status or result.status_code
    detail = f" ({code})" if code else ""
    return f"{result.outcome.value}{detail}"


def policy_for(config: health.ProbeHealthConfig) -> Policy:
    """The probe's policy, with defaults that turn silence into ``unknown``/``dead``."""
    values: dict[str, Any] = dict(config.policy)
    if config.kind == "push":
        values.setdefault("push_dead_after_s", float(config.options.get("dead_after_s", 60.0)))
    else:
        values.setdefault("stale_after_s", float(3 * config.interval_s + 60))
    return Policy(**values)


def rules_for(config: health.ProbeHealthConfig) -> list[Rule]:
    """The probe's threshold rules."""
    return [Rule(**rule) for rule in config.rules]


def history_depth(config: health.ProbeHealthConfig) -> int:
    """Newest results per location the engine sees: the ASR window when an ASR or SCR
    rule exists, else three times the hysteresis streaks (a streak that began earlier no
    longer decides), capped by :data:`HISTORY_CAP`."""
    policy = policy_for(config)
    depth = 3 * (policy.failures_to_unhealthy + policy.successes_to_recover)
    if any(rule.get("metric") in WINDOWED for rule in config.rules):
        depth = max(depth, policy.asr_window)
    return min(depth, HISTORY_CAP)


def reason_json(reason: Reason) -> dict[str, Any]:
    """A reason as stored and served (JSON)."""
    data = asdict(reason)
    data["state"] = reason.state.value
    return data


def cause_of(evaluation: Evaluation) -> str:
    """One line saying why: the first deciding reason's text."""
    return evaluation.reasons[0].text if evaluation.reasons else evaluation.state.value


async def reevaluate(
    pool: Pool | str, probe_ids: Iterable[uuid.UUID], now: datetime
) -> list[Change]:
    """Evaluate probes and record what changed; one transaction per chunk of probes."""
    ordered = sorted(set(probe_ids))
    changes: list[Change] = []
    for start in range(0, len(ordered), CHUNK):
        async with transaction(pool) as conn:
            changes += await _reevaluate_chunk(conn, ordered[start : start + CHUNK], now)
    for change in changes:
        log.info("health changed", extra=asdict(change))
    return changes


async def _reevaluate_chunk(
    conn: AsyncConn, probe_ids: list[uuid.UUID], now: datetime
) -> list[Change]:
    keys = sorted({_lock_key(p) for p in probe_ids})
    await conn.execute("SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) AS k", (keys,))
    configs = await health.probe_configs(conn, probe_ids)
    depths = {config.probe_id: history_depth(config) for config in configs}
    history = await health.recent_results(conn, depths, now - HISTORY_SPAN)
    recorded = {
        (row.probe_id, row.location): row for row in await health.health_rows(conn, list(depths))
    }
    updates: list[health.HealthUpdate] = []
    changes: list[Change] = []
    for config in configs:
        mine = history[config.probe_id]
        result = evaluate(
            (observation(r) for r in mine), rules_for(config), policy_for(config), now
        )
        updates += _updates(config, result, mine, recorded, now)
        change = await _transition(
            conn, config, result=result, history=mine, recorded=recorded, now=now
        )
        if change is not None:
            changes.append(change)
        await asyncio.sleep(0)  # let requests in between probes
    await health.save_health(conn, updates)
    return changes


def _updates(
    config: health.ProbeHealthConfig,
    result: Evaluation,
    history: Sequence[CallResult],
    recorded: Mapping[tuple[uuid.UUID, str], health.HealthRow],
    now: datetime,
) -> list[health.HealthUpdate]:
    """Rows to write: the overall state always (its ``evaluated_at`` says the probe was
    judged), a location's only when its state or reasons changed."""
    newest = max((r.started_at for r in history), default=now)
    updates = []
    for location, state in result.locations.items():
        reasons = [reason_json(r) for r in result.reasons if r.location == location]
        before = recorded.get((config.probe_id, location))
        if before is None or before.state != state.value or before.reasons != reasons:
            updates.append(
                health.HealthUpdate(
                    probe_id=config.probe_id,
                    location=location,
                    state=state.value,
                    at=newest,
                    reasons=reasons,
                    evaluated_at=now,
                )
            )
    updates.append(
        health.HealthUpdate(
            probe_id=config.probe_id,
            location="",
            state=result.state.value,
            at=_changed_at(result, history, now),
            reasons=[reason_json(r) for r in result.reasons],
            evaluated_at=now,
        )
    )
    return updates


def _changed_at(result: Evaluation, history: Sequence[CallResult], now: datetime) -> datetime:
    # Silence is judged at ``now``; a result-driven change happened when the result did.
    newest = max((r.started_at for r in history), default=now)
    return newest if result.state is not State.UNKNOWN and history else now


async def _transition(
    conn: AsyncConn,
    config: health.ProbeHealthConfig,
    *,
    result: Evaluation,
    history: Sequence[CallResult],
    recorded: Mapping[tuple[uuid.UUID, str], health.HealthRow],
    now: datetime,
) -> Change | None:
    previous = recorded.get((config.probe_id, ""))
    before = previous.state if previous else State.UNKNOWN.value
    if before == result.state.value:
        return None
    cause = cause_of(result)
    at = await health.record_transition(
        conn,
        project_id=config.project_id,
        probe_id=config.probe_id,
        at=_changed_at(result, history, now),
        from_state=before,
        to_state=result.state.value,
        reasons=[reason_json(r) for r in result.reasons],
        cause=cause,
    )
    return Change(
        probe_id=config.probe_id, at=at, from_state=before, to_state=result.state.value, cause=cause
    )


def _lock_key(probe_id: uuid.UUID) -> int:
    # Advisory locks take a bigint; crc32 of the id keeps the key stable across replicas.
    return zlib.crc32(probe_id.bytes)
