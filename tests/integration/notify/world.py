"""A small world for routing tests on the real database, inside the test's transaction:
projects, probes with tags, channels with rules, pages and maintenance windows; health
changes written the way judging writes them (``record_transition`` beside
``save_health``) at synthetic times, routing passes at chosen clock times, and the
deliveries read back per channel in queue order."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from notify.router import route
from store import health, transitions
from store.pool import AsyncConn
from tests.integration.conftest import inserted_id
from thresholds.transitions import StateRecord, Transition


def address(slug: str, domain: str | None) -> str:
    return f"https://status.example/s/{slug}"


@dataclass
class World:
    conn: AsyncConn
    states: dict[uuid.UUID, str] = field(default_factory=dict)
    projects: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)
    """Each probe's project."""

    async def project(self) -> uuid.UUID:
        sql = "INSERT INTO projects (name) VALUES ('routing') RETURNING id"
        return uuid.UUID(str(await inserted_id(self.conn, sql)))

    async def probe(self, project: uuid.UUID, name: str, tags: Sequence[str] = ()) -> uuid.UUID:
        probe = await inserted_id(
            self.conn,
            "INSERT INTO probes (project_id, name, kind, target, interval_s, timeout_s, tags)"
            " VALUES (%s, %s, 'sip_options', 'sip:trunk@h', 60, 5, %s) RETURNING id",
            (project, name, list(tags)),
        )
        self.states[probe] = "unknown"
        self.projects[probe] = project
        return uuid.UUID(str(probe))

    async def channel(
        self,
        project: uuid.UUID,
        rules: dict[str, Any] | None = None,
        *,
        crisp: bool = False,
        paused: bool = False,
    ) -> uuid.UUID:
        config: dict[str, Any] = {"url": "https://hooks.example/in"}
        if crisp:
            config["format"] = "crisp"
        channel = await inserted_id(
            self.conn,
            "INSERT INTO notify_channels (project_id, name, kind, config, secret, rules,"
            " paused_at) VALUES (%s, 'hook', 'webhook', %s, '\\x00', %s,"
            " CASE WHEN %s THEN now() END) RETURNING id",
            (project, Jsonb(config), Jsonb(rules or {}), paused),
        )
        return uuid.UUID(str(channel))

    async def page(self, project: uuid.UUID, components: dict[str, uuid.UUID]) -> uuid.UUID:
        """A page showing ``components`` (name -> probe) in that order; slug = page id."""
        page = await inserted_id(
            self.conn,
            "INSERT INTO status_pages (project_id, slug, name, domain_token)"
            " VALUES (%s, 'p-' || substr(md5(random()::text), 1, 12), 'Status', 't')"
            " RETURNING id",
            (project,),
        )
        for position, (name, probe) in enumerate(components.items()):
            await self.conn.execute(
                "INSERT INTO status_page_components (page_id, probe_id, public_id, position, name)"
                " VALUES (%s, %s, %s, %s, %s)",
                (page, probe, uuid.uuid4().hex, position, name),
            )
        return uuid.UUID(str(page))

    async def slug(self, page: uuid.UUID) -> str:
        cur = await self.conn.execute("SELECT slug FROM status_pages WHERE id = %s", (page,))
        row = await cur.fetchone()
        assert row is not None
        return str(row[0])

    async def window(
        self,
        project: uuid.UUID,
        starts: datetime,
        ends: datetime,
        *,
        probe: uuid.UUID | None = None,
        page: uuid.UUID | None = None,
    ) -> None:
        await self.conn.execute(
            "INSERT INTO maintenance_windows (project_id, probe_id, page_id, title, starts_at,"
            " ends_at) VALUES (%s, %s, %s, 'works', %s, %s)",
            (project, probe, page, starts, ends),
        )

    async def go(
        self, probe: uuid.UUID, to: str, at: datetime, *, bad_at: Sequence[str] = ()
    ) -> None:
        """The probe changes to ``to`` at ``at``; ``bad_at``: locations where it is bad."""
        reasons = [{"state": to, "rule": "critical", "metric": "mos", "value": 2.9,
                    "bound": 3.5, "text": f"mos 2.90 below 3.50 ({to})"}]  # fmt: skip
        change = Transition(
            at=at, from_state=self.states[probe], to_state=to, cause=f"now {to}", reasons=reasons
        )
        await transitions.record_transition(
            self.conn, project_id=self.projects[probe], probe_id=probe, transition=change
        )
        records = [StateRecord(location="", state=to, at=at, reasons=reasons, evaluated_at=at)]
        records += [
            StateRecord(location=where, state=to, at=at, reasons=reasons, evaluated_at=at)
            for where in bad_at
        ]
        await self.conn.execute("DELETE FROM probe_health WHERE probe_id = %s", (probe,))
        await health.save_health(self.conn, {probe: records})
        self.states[probe] = to

    async def route(self, now: datetime) -> int:
        return await route(self.conn, address, now)

    async def deliveries(self, channel: uuid.UUID) -> list[dict[str, Any]]:
        """The channel's deliveries in queue order: kind, state, order_key, payload."""
        async with self.conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                "SELECT kind, state, order_key, payload, event_id FROM notify_deliveries"
                " WHERE channel_id = %s ORDER BY seq",
                (channel,),
            )
            return await cur.fetchall()

    async def kinds(self, channel: uuid.UUID) -> list[str]:
        return [row["kind"] for row in await self.deliveries(channel)]
