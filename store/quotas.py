"""Per-project quotas: how many probes, status pages, (unrevoked) agents and notification
channels a project has.

:func:`claim` is called in the transaction that creates the row. It takes a
transaction-scoped advisory lock per project and noun before counting, so two
concurrent creates cannot both see room for one more; the lock is released at
commit or rollback and touches no rows (ingest and leasing never wait for it).
"""

from __future__ import annotations

import uuid
from typing import Literal, LiteralString

from store.errors import QuotaExceeded
from store.pool import AsyncConn

Noun = Literal["probes", "pages", "agents", "channels"]

LOCK_CLASS = 0x71756F74
"""First key of the advisory locks: "quot" in ASCII, recognisable in pg_locks."""

_COUNTS: dict[Noun, LiteralString] = {
    "probes": "SELECT count(*) FROM probes WHERE project_id = %(project)s",
    "pages": "SELECT count(*) FROM status_pages WHERE project_id = %(project)s",
    "agents": "SELECT count(*) FROM agents WHERE project_id = %(project)s AND revoked_at IS NULL",
    "channels": "SELECT count(*) FROM notify_channels WHERE project_id = %(project)s",
}
_LOCK = "SELECT pg_advisory_xact_lock(%(class)s, hashtext(%(key)s))"


async def claim(conn: AsyncConn, project_id: uuid.UUID, noun: Noun, limit: int) -> None:
    """Make room for one more ``noun`` in this transaction, or :class:`QuotaExceeded`."""
    await conn.execute(_LOCK, {"class": LOCK_CLASS, "key": f"{noun}:{project_id}"})
    row = await (await conn.execute(_COUNTS[noun], {"project": project_id})).fetchone()
    assert row is not None
    if row[0] >= limit:
        raise QuotaExceeded(
            f"this project already has {row[0]} {noun}, its quota is {limit}:"
            f" remove some first or ask the operator to raise the limit"
        )
