"""Judge probes: recent observations from the store, the pure threshold engine, changes written.

One direction, in the caller's transaction: ``store`` reads the configs, the history of
the locations that reported, the other locations' kept verdicts and the recorded
states; ``thresholds`` settles each location that reported, combines every location at
``now`` (staleness, quorum) and says what changed; ``store`` writes the states, the
kept verdicts with their deadlines and, through
:func:`store.transitions.record_transition`, the transition with its incident.

A location's settled verdict depends only on its own results, so re-reading just the
locations that reported gives the same evaluation as re-reading all of them (a whole
probe, location ``''``, is re-read when its configuration changes). Called by the
judging loop (``api.services.judging_queue``) for marks that ingest and the sweep
(``api.services.sweeper``) leave. Each probe is judged under a transaction-scoped
advisory lock; a probe whose lock another replica holds is left for later (``busy``),
so two replicas never judge one probe at once and neither waits for the other.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from store import health, location_verdicts, observations, transitions
from store.judging_queue import WHOLE_PROBE
from store.location_verdicts import Kept
from store.pool import AsyncConn
from thresholds.evaluate import Observation, Settled, combine, next_change, settle_locations
from thresholds.policy import history_depth, probe_policy
from thresholds.rules import Policy, Rule
from thresholds.transitions import Transition, diff_at

HISTORY_SPAN = timedelta(days=2)

PUSH_LOCATION = "push"
"""Where push reports come from: every probe's history includes it."""


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

    @property
    def locations(self) -> frozenset[str]:
        """The locations whose results count: the probe's own and push reports."""
        return frozenset((*self.config.locations, PUSH_LOCATION))


@dataclass(frozen=True, kw_only=True, slots=True)
class _Inputs:
    """What judging reads for one batch: per probe, the fresh history of the locations
    to re-read, the kept verdicts of its other locations and its recorded states."""

    probes: list[Probe]
    history: dict[uuid.UUID, dict[str, list[Observation]]]
    kept: dict[uuid.UUID, dict[str, Settled]]
    recorded: dict[uuid.UUID, dict[str, health.HealthRow]]


@dataclass(frozen=True, kw_only=True, slots=True)
class Judged:
    """What a judgement did: the transitions it recorded, and the probes it left because
    another transaction is judging them."""

    changes: list[Change]
    busy: frozenset[uuid.UUID]


async def judge(
    conn: AsyncConn, wanted: Mapping[uuid.UUID, Collection[str]], now: datetime
) -> Judged:
    """Judge each probe after new results at the given locations (``''``: all of them).
    A disabled probe keeps the state it had: its marks are dropped unjudged (enabling it
    marks it again), as the sweep passes it by."""
    locked = await health.try_lock_probes(conn, list(wanted))
    inputs = await _read(conn, {pid: wanted[pid] for pid in locked}, now)
    states, saved, changes = {}, [], []
    for probe in (p for p in inputs.probes if p.config.enabled):
        pid = probe.config.probe_id
        fresh = {
            location: settle_locations(found, probe.rules, probe.policy).get(location)
            for location, found in inputs.history[pid].items()
        }
        settled = _current(probe, {**inputs.kept[pid], **fresh}, now - HISTORY_SPAN)
        newest = max((s.newest for s in settled.values()), default=None)
        found = diff_at(combine(settled, probe.policy, now), newest, inputs.recorded[pid], now)
        states[pid] = found.states
        saved += [_kept(probe, location, s, now) for location, s in fresh.items()]
        if found.transition is not None:
            changes.append(await _record(conn, probe, found.transition))
        await asyncio.sleep(0)  # let requests in between probes
    await health.save_health(conn, states)
    await location_verdicts.save(conn, saved)
    return Judged(changes=changes, busy=frozenset(wanted).difference(locked))


async def _read(
    conn: AsyncConn, wanted: Mapping[uuid.UUID, Collection[str]], now: datetime
) -> _Inputs:
    probes = [Probe.of(config) for config in await health.probe_configs(conn, list(wanted))]
    ids = [p.config.probe_id for p in probes]
    depths = {
        (p.config.probe_id, location): depth
        for p, depth in ((p, history_depth(p.policy, p.rules)) for p in probes)
        for location in _to_read(p, wanted[p.config.probe_id])
    }
    history: dict[uuid.UUID, dict[str, list[Observation]]] = {pid: {} for pid in ids}
    found = await observations.recent_observations(conn, depths, now - HISTORY_SPAN)
    for (pid, location), runs in found.items():
        history[pid][location] = runs
    recorded: dict[uuid.UUID, dict[str, health.HealthRow]] = {pid: {} for pid in ids}
    for row in await health.health_rows(conn, ids):
        recorded[row.probe_id][row.location] = row
    kept = await location_verdicts.kept(conn, ids, skip=depths)
    return _Inputs(probes=probes, history=history, kept=kept, recorded=recorded)


def _to_read(probe: Probe, locations: Collection[str]) -> frozenset[str]:
    """The probe's locations to re-read: all for a whole-probe mark, else those marked."""
    if WHOLE_PROBE in locations:
        return probe.locations
    return probe.locations.intersection(locations)


def _current(
    probe: Probe, settled: Mapping[str, Settled | None], since: datetime
) -> dict[str, Settled]:
    """The verdicts that count: the probe's locations with a result since ``since``."""
    return {
        location: found
        for location, found in settled.items()
        if found is not None and location in probe.locations and found.newest >= since
    }


def _kept(probe: Probe, location: str, settled: Settled | None, now: datetime) -> Kept:
    """What to keep of a re-read location, and when the sweep should look at it again
    (never for a disabled probe: the sweep passes them by)."""
    due = None
    if settled is not None and probe.config.enabled:
        due = next_change(settled, probe.policy, now, HISTORY_SPAN)
    return Kept(probe_id=probe.config.probe_id, location=location, settled=settled, due_at=due)


async def _record(conn: AsyncConn, probe: Probe, transition: Transition) -> Change:
    """The seam where a transition is written, in the judgement's transaction."""
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
