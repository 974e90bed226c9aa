"""Probes and incidents for tests of what operators do with incidents: transitions are
recorded the way judging records them (``store.transitions``), which opens and resolves
the incidents."""

from __future__ import annotations

import uuid
from datetime import datetime

from store import probes, transitions
from store.pool import transaction
from store.probes import ProbeFields
from thresholds.transitions import Transition

Move = tuple[datetime, str, str]
"""A transition: when, the state it led to, the cause recorded with it."""


async def add_probe(url: str, project_id: uuid.UUID | str, name: str) -> uuid.UUID:
    """A disabled SIP OPTIONS probe (nothing runs it; the test decides its history)."""
    fields = ProbeFields(
        name=name, kind="sip_options", target="sip:probe@127.0.0.1:5999", replicas=[],
        interval_s=60, timeout_s=5.0, enabled=False, options={}, policy={}, tags=[],
    )  # fmt: skip
    async with transaction(url) as conn:
        made = await probes.create_probe(conn, uuid.UUID(str(project_id)), fields, location_ids=[])
    return made.id


async def record_moves(
    url: str, project_id: uuid.UUID | str, probe_id: uuid.UUID | str, moves: list[Move]
) -> uuid.UUID:
    """Record ``moves`` in order (from healthy); the id of the probe's latest incident."""
    project, probe, state = uuid.UUID(str(project_id)), uuid.UUID(str(probe_id)), "healthy"
    async with transaction(url) as conn:
        for at, to_state, cause in moves:
            change = Transition(at=at, from_state=state, to_state=to_state, reasons=[], cause=cause)
            await transitions.record_transition(
                conn, project_id=project, probe_id=probe, transition=change
            )
            state = to_state
        query = "SELECT id FROM incidents WHERE probe_id = %s ORDER BY opened_at DESC LIMIT 1"
        row = await (await conn.execute(query, (probe,))).fetchone()
    assert row is not None, "the moves opened no incident"
    return uuid.UUID(str(row[0]))
