"""Judge probes: recent observations from the store, the pure threshold engine, changes written.

One direction, once per probe: ``store`` reads the configs, observations and recorded
states, ``thresholds`` evaluates and says what changed, ``store`` writes the states and,
through :func:`store.transitions.record_transition`, the transition with its incident.
Called by the judging queue for probes with new results (``api.services.judging_queue``)
and by the sweeper on a clock (so silence turns into ``unknown`` or, for push probes,
``unhealthy``). Each probe is judged under a transaction-scoped advisory lock, so API
replicas judging the same probe at once record a transition only once.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from api import telemetry
from store import health, observations, transitions
from store.pool import AsyncConn, Pool, transaction
from thresholds.evaluate import evaluate
from thresholds.policy import history_depth, probe_policy
from thresholds.rules import Policy, Rule
from thresholds.transitions import StateRecord, Transition, diff

log = logging.getLogger(__name__)

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


@dataclass(frozen=True, kw_only=True, slots=True)
class Probe:
    """A probe as judging sees it: its stored configuration in the engine's terms."""

    config: health.ProbeHealthConfig
    policy: Policy
    rules: list[Rule]

    @classmethod
    def of(cls, config: health.ProbeHealthConfig) -> Probe:
        """The probe's policy (with judging's defaults) and its threshold rules."""
        policy = probe_policy(
            config.policy, kind=config.kind, interval_s=config.interval_s, options=config.options
        )
        return cls(config=config, policy=policy, rules=[Rule(**rule) for rule in config.rules])


async def reevaluate(
    pool: Pool | str, probe_ids: Iterable[uuid.UUID], now: datetime
) -> list[Change]:
    """Judge probes and record what changed; one transaction per chunk of probes."""
    ordered = sorted(set(probe_ids))
    changes: list[Change] = []
    for start in range(0, len(ordered), CHUNK):
        async with transaction(pool) as conn:
            changes += await _judge_chunk(conn, ordered[start : start + CHUNK], now)
    telemetry.HEALTH_CHANGES.inc(len(changes))
    for change in changes:
        log.info("health changed", extra=asdict(change))
    return changes


async def _judge_chunk(conn: AsyncConn, probe_ids: list[uuid.UUID], now: datetime) -> list[Change]:
    await health.lock_probes(conn, probe_ids)
    probes = [Probe.of(config) for config in await health.probe_configs(conn, probe_ids)]
    depths = {p.config.probe_id: history_depth(p.policy, p.rules) for p in probes}
    history = await observations.recent_observations(conn, depths, now - HISTORY_SPAN)
    recorded: dict[uuid.UUID, dict[str, health.HealthRow]] = {pid: {} for pid in depths}
    for row in await health.health_rows(conn, list(depths)):
        recorded[row.probe_id][row.location] = row
    states: dict[uuid.UUID, list[StateRecord]] = {}
    changes: list[Change] = []
    for probe in probes:
        probe_id = probe.config.probe_id
        mine = history[probe_id]
        found = diff(evaluate(mine, probe.rules, probe.policy, now), mine, recorded[probe_id], now)
        states[probe_id] = found.states
        if found.transition is not None:
            changes.append(await _record(conn, probe, found.transition))
        await asyncio.sleep(0)  # let requests in between probes
    await health.save_health(conn, states)
    return changes


async def _record(conn: AsyncConn, probe: Probe, transition: Transition) -> Change:
    """The seam where a transition is written, in the chunk's transaction."""
    at = await transitions.record_transition(
        conn,
        project_id=probe.config.project_id,
        probe_id=probe.config.probe_id,
        transition=transition,
    )
    return Change(
        probe_id=probe.config.probe_id,
        at=at,
        from_state=transition.from_state,
        to_state=transition.to_state,
        cause=transition.cause,
    )
