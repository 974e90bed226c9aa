"""Repository of the notification outbox as the router reads it, and what it writes.

The router (``notify/router.py``) takes the transitions written beside each health
change (``notify_events``), the facts routing needs about them, and what each channel was
last told (``notify_channel_probes``); it writes deliveries and marks the events routed,
all in one transaction, so an event is fanned out exactly once or not at all.
One router works at a time (a transaction-scoped advisory lock): routing is quick SQL,
and one router keeps each probe's notices in order.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from store.pool import AsyncConn
from store.rows import fetch_all

ROUTER_LOCK = 0x6E6F74696679
"""Advisory-lock key: "notify" in ASCII."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Event:
    """A transition waiting in the outbox."""

    id: int
    project_id: uuid.UUID
    probe_id: uuid.UUID
    incident_id: uuid.UUID | None
    incident_opened_at: datetime | None
    at: datetime
    from_state: str
    to_state: str
    cause: str
    reasons: list[dict[str, Any]]


@dataclass(frozen=True, kw_only=True, slots=True)
class RouteChannel:
    """A channel as the router sees it."""

    id: uuid.UUID
    project_id: uuid.UUID
    kind: str
    config: dict[str, Any]
    rules: dict[str, Any]


@dataclass(frozen=True, kw_only=True, slots=True)
class ProbeFacts:
    """What a notice says about its probe and project."""

    probe_id: uuid.UUID
    name: str
    kind: str
    tags: list[str]
    project_id: uuid.UUID
    project_name: str
    state: str
    """The probe's current overall state ('unknown' when never judged)."""
    state_since: datetime | None
    reasons: list[dict[str, Any]]
    incident_id: uuid.UUID | None
    """The probe's open incident."""
    incident_opened_at: datetime | None


@dataclass(frozen=True, kw_only=True, slots=True)
class PageOfProbe:
    """A status page that shows the probe."""

    probe_id: uuid.UUID
    page_id: uuid.UUID
    name: str
    slug: str
    custom_domain: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class Window:
    """A maintenance window: for one probe, one page, or (both null) the whole project."""

    project_id: uuid.UUID
    probe_id: uuid.UUID | None
    page_id: uuid.UUID | None
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class Remembered:
    """What one channel was last told about one probe."""

    channel_id: uuid.UUID
    probe_id: uuid.UUID
    told_state: str | None
    alert_key: str | None
    flapping_since: datetime | None
    last_change_at: datetime | None
    reminders_sent: int
    next_reminder_at: datetime | None


@dataclass(frozen=True, kw_only=True, slots=True)
class NewDelivery:
    """A notice for one channel, as the router makes it."""

    project_id: uuid.UUID
    channel_id: uuid.UUID
    event_id: int | None
    order_key: str
    kind: str
    payload: dict[str, Any]


@dataclass(frozen=True, kw_only=True, slots=True)
class PageComponent:
    """One component of a page with its probe's current state and where it is bad."""

    page_id: uuid.UUID
    project_id: uuid.UUID
    probe_id: uuid.UUID
    slug: str
    name: str
    state: str
    bad_locations: list[str]


_LOCK = "SELECT pg_try_advisory_xact_lock(%(key)s)"

_EVENTS = """
SELECT e.id, e.project_id, e.probe_id, e.incident_id, i.opened_at AS incident_opened_at,
       e.at, e.from_state, e.to_state, e.cause, e.reasons
FROM notify_events e LEFT JOIN incidents i ON i.id = e.incident_id
WHERE e.routed_at IS NULL ORDER BY e.id LIMIT %(limit)s
"""
_ROUTED = "UPDATE notify_events SET routed_at = %(now)s WHERE id = ANY(%(ids)s)"

_CHANNELS = """
SELECT id, project_id, kind, config, rules FROM notify_channels
WHERE project_id = ANY(%(projects)s) ORDER BY id
"""
_PROBES = """
SELECT p.id AS probe_id, p.name, p.kind, p.tags, p.project_id, pr.name AS project_name,
       coalesce(h.state, 'unknown') AS state, h.since AS state_since,
       coalesce(h.reasons, '[]') AS reasons, i.id AS incident_id,
       i.opened_at AS incident_opened_at
FROM probes p JOIN projects pr ON pr.id = p.project_id
LEFT JOIN probe_health h ON h.probe_id = p.id AND h.location = ''
LEFT JOIN incidents i ON i.probe_id = p.id AND i.resolved_at IS NULL
WHERE p.id = ANY(%(probes)s)
"""
_PAGES = """
SELECT c.probe_id, s.id AS page_id, s.name, s.slug,
       CASE WHEN s.domain_verified_at IS NOT NULL THEN s.custom_domain END AS custom_domain
FROM status_page_components c JOIN status_pages s ON s.id = c.page_id
WHERE c.probe_id = ANY(%(probes)s) ORDER BY s.slug
"""
_CHANGES = """
SELECT probe_id, at FROM health_transitions
WHERE probe_id = ANY(%(probes)s) AND at > %(since)s AND at <= %(until)s ORDER BY at
"""
_WINDOWS = """
SELECT project_id, probe_id, page_id, starts_at, ends_at FROM maintenance_windows
WHERE project_id = ANY(%(projects)s) AND starts_at <= %(until)s AND ends_at > %(since)s
"""
_MEMORIES = """
SELECT channel_id, probe_id, told_state, alert_key, flapping_since, last_change_at,
       reminders_sent, next_reminder_at
FROM notify_channel_probes WHERE probe_id = ANY(%(probes)s)
"""
_DUE_MEMORIES = """
SELECT channel_id, probe_id, told_state, alert_key, flapping_since, last_change_at,
       reminders_sent, next_reminder_at
FROM notify_channel_probes
WHERE next_reminder_at <= %(now)s OR flapping_since IS NOT NULL
ORDER BY channel_id, probe_id LIMIT %(limit)s
"""
_SAVE_MEMORY = """
INSERT INTO notify_channel_probes AS m (channel_id, probe_id, told_state, alert_key,
    flapping_since, last_change_at, reminders_sent, next_reminder_at)
VALUES (%(channel_id)s, %(probe_id)s, %(told_state)s, %(alert_key)s, %(flapping_since)s,
        %(last_change_at)s, %(reminders_sent)s, %(next_reminder_at)s)
ON CONFLICT (channel_id, probe_id) DO UPDATE SET
    told_state = excluded.told_state, alert_key = excluded.alert_key,
    flapping_since = excluded.flapping_since, last_change_at = excluded.last_change_at,
    reminders_sent = excluded.reminders_sent, next_reminder_at = excluded.next_reminder_at
"""
_ADD_DELIVERY = """
INSERT INTO notify_deliveries (project_id, channel_id, event_id, order_key, kind, payload)
VALUES (%(project_id)s, %(channel_id)s, %(event_id)s, %(order_key)s, %(kind)s, %(payload)s)
"""
_PAGE_COMPONENTS = """
SELECT s.id AS page_id, s.project_id, c.probe_id, s.slug, c.name,
       coalesce(h.state, 'unknown') AS state,
       coalesce((SELECT array_agg(l.location ORDER BY l.location) FROM probe_health l
                 WHERE l.probe_id = c.probe_id AND l.location <> ''
                   AND l.state IN ('degraded', 'unhealthy')), '{}') AS bad_locations
FROM status_pages s JOIN status_page_components c ON c.page_id = s.id
LEFT JOIN probe_health h ON h.probe_id = c.probe_id AND h.location = ''
WHERE s.id = ANY(%(pages)s) ORDER BY s.id, c.position
"""
_PAGE_TOLD = "SELECT page_id, health FROM notify_page_health WHERE page_id = ANY(%(pages)s)"
_SAVE_PAGE = """
INSERT INTO notify_page_health (page_id, health, changed_at) VALUES (%(page)s, %(health)s, %(at)s)
ON CONFLICT (page_id) DO UPDATE SET health = excluded.health, changed_at = excluded.changed_at
"""


async def take_router_lock(conn: AsyncConn) -> bool:
    """Whether this transaction is the one router now (false: another one is routing)."""
    row = await (await conn.execute(_LOCK, {"key": ROUTER_LOCK})).fetchone()
    return bool(row and row[0])


async def pending_events(conn: AsyncConn, limit: int) -> list[Event]:
    """The oldest events not yet routed."""
    return await fetch_all(conn, Event, _EVENTS, {"limit": limit})


async def mark_routed(conn: AsyncConn, ids: Sequence[int], now: datetime) -> None:
    await conn.execute(_ROUTED, {"ids": list(ids), "now": now})


async def channels_of(conn: AsyncConn, projects: Iterable[uuid.UUID]) -> list[RouteChannel]:
    return await fetch_all(conn, RouteChannel, _CHANNELS, {"projects": list(set(projects))})


async def probe_facts(conn: AsyncConn, probes: Iterable[uuid.UUID]) -> list[ProbeFacts]:
    return await fetch_all(conn, ProbeFacts, _PROBES, {"probes": list(set(probes))})


async def pages_of(conn: AsyncConn, probes: Iterable[uuid.UUID]) -> list[PageOfProbe]:
    return await fetch_all(conn, PageOfProbe, _PAGES, {"probes": list(set(probes))})


async def change_times(
    conn: AsyncConn, probes: Iterable[uuid.UUID], since: datetime, until: datetime
) -> list[tuple[uuid.UUID, datetime]]:
    """When each probe changed state within (since, until]."""
    params = {"probes": list(set(probes)), "since": since, "until": until}
    rows = await (await conn.execute(_CHANGES, params)).fetchall()
    return [(row[0], row[1]) for row in rows]


async def maintenance(
    conn: AsyncConn, projects: Iterable[uuid.UUID], since: datetime, until: datetime
) -> list[Window]:
    """The projects' maintenance windows overlapping [since, until]."""
    params = {"projects": list(set(projects)), "since": since, "until": until}
    return await fetch_all(conn, Window, _WINDOWS, params)


async def memories(conn: AsyncConn, probes: Iterable[uuid.UUID]) -> list[Remembered]:
    return await fetch_all(conn, Remembered, _MEMORIES, {"probes": list(set(probes))})


async def due_memories(conn: AsyncConn, now: datetime, limit: int) -> list[Remembered]:
    """Memories a clock may change: reminders due, and probes flapping."""
    return await fetch_all(conn, Remembered, _DUE_MEMORIES, {"now": now, "limit": limit})


async def save_memories(conn: AsyncConn, rows: Sequence[Remembered]) -> None:
    if rows:
        async with conn.cursor() as cur:
            await cur.executemany(_SAVE_MEMORY, [_fields(row) for row in rows])


async def add_deliveries(conn: AsyncConn, rows: Sequence[NewDelivery]) -> None:
    """Queue notices; their order of insertion is their order of delivery per key."""
    if rows:
        params = [{**_fields(row), "payload": Jsonb(row.payload)} for row in rows]
        async with conn.cursor() as cur:
            await cur.executemany(_ADD_DELIVERY, params)


async def page_components(conn: AsyncConn, pages: Iterable[uuid.UUID]) -> list[PageComponent]:
    return await fetch_all(conn, PageComponent, _PAGE_COMPONENTS, {"pages": list(set(pages))})


async def page_health_told(conn: AsyncConn, pages: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The health last sent per page (pages never sent are absent)."""
    rows = await (await conn.execute(_PAGE_TOLD, {"pages": list(set(pages))})).fetchall()
    return {row[0]: row[1] for row in rows}


async def save_page_health(conn: AsyncConn, page_id: uuid.UUID, health: str, at: datetime) -> None:
    await conn.execute(_SAVE_PAGE, {"page": page_id, "health": health, "at": at})


def _fields(row: Remembered | NewDelivery) -> dict[str, Any]:
    return {name: getattr(row, name) for name in row.__dataclass_fields__}
