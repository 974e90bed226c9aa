"""The router: outbox events and the clock in, deliveries out, in one transaction.

Each pass (under the router lock, see :mod:`store.notices`) takes the oldest unrouted
health transitions, decides per channel what it is told (:mod:`notify.routing`), looks
at the clock (flaps settling, maintenance over, reminders due), adds the page-level Crisp
events of the pages those probes are on (:mod:`notify.crisp_events`), and writes
deliveries, memories and the routed mark together: a crash before commit leaves the
events to route again, never half.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from notify.compose import Happening, PageAddress, probe_notice
from notify.crisp_events import page_events
from notify.maintenance import quiet_until
from notify.payloads import Flapping, NoticeType, Reminder
from notify.routing import Change, Memory, Told, alert_key, on_change, on_clock
from notify.rules import Rules
from store import notices
from store.notices import Event, NewDelivery, ProbeFacts, Remembered, RouteChannel
from store.pool import AsyncConn, Pool, transaction

BATCH = 500
"""Events routed per transaction."""


@dataclass(frozen=True, kw_only=True, slots=True)
class _Channel:
    row: RouteChannel
    rules: Rules

    @property
    def crisp(self) -> bool:
        """Whether it takes Crisp page events instead of probe notices."""
        return self.row.config.get("format") == "crisp"


@dataclass(kw_only=True)
class _Pass:
    """What one routing pass has read and what it will write."""

    now: datetime
    address: PageAddress
    channels: dict[uuid.UUID, list[_Channel]]
    facts: dict[uuid.UUID, ProbeFacts]
    pages: dict[uuid.UUID, list[notices.PageOfProbe]]
    changes: dict[uuid.UUID, list[datetime]]
    windows: list[notices.Window]
    memory: dict[tuple[uuid.UUID, uuid.UUID], Memory]
    deliveries: list[NewDelivery] = field(default_factory=list)
    touched: set[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=set)


async def route_once(pool: Pool | str, address: PageAddress, now: datetime) -> int:
    """One routing pass under the router lock; the number of deliveries it queued (0 when
    another router holds the lock)."""
    async with transaction(pool) as conn:
        if not await notices.take_router_lock(conn):
            return 0
        return await route(conn, address, now)


async def route(conn: AsyncConn, address: PageAddress, now: datetime) -> int:
    """The pass itself, in the caller's transaction (which must hold the router lock, or
    be one nobody else sees, as in tests); the number of deliveries it queued."""
    events = await notices.pending_events(conn, BATCH)
    clock = await notices.due_memories(conn, now, BATCH)
    if not events and not clock:
        return 0
    work = await _load(conn, events, clock, address, now)
    for event in events:
        _route_event(work, event)
    for remembered in clock:
        _route_clock(work, remembered)
    probes = {e.probe_id for e in events} | {m.probe_id for m in clock}
    pages = {page.page_id for probe in probes for page in work.pages.get(probe, [])}
    crisp = [(c.row, c.rules) for chans in work.channels.values() for c in chans if c.crisp]
    work.deliveries += await page_events(conn, pages, crisp, work.windows, now)
    await notices.add_deliveries(conn, work.deliveries)
    await notices.save_memories(conn, [_remembered(key, work.memory[key]) for key in work.touched])
    await notices.mark_routed(conn, [event.id for event in events], now)
    return len(work.deliveries)


async def _load(
    conn: AsyncConn,
    events: Sequence[Event],
    clock: Sequence[Remembered],
    address: PageAddress,
    now: datetime,
) -> _Pass:
    probes = {e.probe_id for e in events} | {m.probe_id for m in clock}
    facts = {f.probe_id: f for f in await notices.probe_facts(conn, probes)}
    projects = {f.project_id for f in facts.values()}
    channels: dict[uuid.UUID, list[_Channel]] = defaultdict(list)
    for row in await notices.channels_of(conn, projects):
        channels[row.project_id].append(_Channel(row=row, rules=Rules.model_validate(row.rules)))
    pages: dict[uuid.UUID, list[notices.PageOfProbe]] = defaultdict(list)
    for page in await notices.pages_of(conn, probes):
        pages[page.probe_id].append(page)
    times = [e.at for e in events] or [now]
    since = min(times) - timedelta(minutes=_widest_window(channels.values()))
    changes: dict[uuid.UUID, list[datetime]] = defaultdict(list)
    for probe_id, at in await notices.change_times(conn, probes, since, max(times)):
        changes[probe_id].append(at)
    memory = {(m.channel_id, m.probe_id): _memory(m) for m in await notices.memories(conn, probes)}
    return _Pass(
        now=now,
        address=address,
        channels=channels,
        facts=facts,
        pages=pages,
        changes=changes,
        windows=await notices.maintenance(conn, projects, since, max(*times, now)),
        memory=memory,
    )


def _route_event(work: _Pass, event: Event) -> None:
    facts = work.facts.get(event.probe_id)
    if facts is None:
        return
    page_ids = [page.page_id for page in work.pages[event.probe_id]]
    quiet = quiet_until(work.windows, event.project_id, event.probe_id, page_ids, event.at)
    for channel in work.channels[event.project_id]:
        if channel.crisp or not channel.rules.matches(event.probe_id, facts.tags, page_ids):
            continue
        key = (channel.row.id, event.probe_id)
        change = Change(
            probe_id=event.probe_id,
            at=event.at,
            to_state=event.to_state,
            incident_id=event.incident_id,
            recent_changes=_recent(work, event, channel.rules),
            quiet_until=quiet,
        )
        told = on_change(channel.rules, work.memory.get(key, Memory()), change)
        happening = Happening(
            id=f"evt_{event.id}",
            type=told.type or "probe.health_changed",
            at=event.at,
            from_state=event.from_state,
            to_state=event.to_state,
            cause=event.cause,
            reasons=event.reasons,
            incident_id=event.incident_id,
            incident_opened_at=event.incident_opened_at,
            alert_key=told.alert_key,
            flapping=_flapping(told, channel.rules, change),
        )
        _tell(
            work, channel, facts=facts, key=key, told=told, happening=happening, event_id=event.id
        )


def _route_clock(work: _Pass, remembered: Remembered) -> None:
    facts = work.facts.get(remembered.probe_id)
    if facts is None:
        return
    for channel in work.channels[facts.project_id]:
        if channel.row.id != remembered.channel_id:
            continue
        key = (channel.row.id, remembered.probe_id)
        before = work.memory.get(key, _memory(remembered))
        opened = alert_key(facts.probe_id, facts.incident_id, work.now)
        told = on_clock(channel.rules, before, work.now, facts.state, opened)
        happening = Happening(
            id=f"{told.type}:{remembered.probe_id}:{work.now.isoformat()}",
            type=told.type or "probe.reminder",
            at=work.now,
            from_state=before.told_state or "unknown",
            to_state=facts.state,
            cause=_clock_cause(told.type, facts),
            reasons=facts.reasons,
            incident_id=facts.incident_id,
            incident_opened_at=facts.incident_opened_at,
            alert_key=told.alert_key,
            reminder=_reminder(told, facts, work.now),
        )
        _tell(work, channel, facts=facts, key=key, told=told, happening=happening, event_id=None)


def _tell(
    work: _Pass,
    channel: _Channel,
    *,
    facts: ProbeFacts,
    key: tuple[uuid.UUID, uuid.UUID],
    told: Told,
    happening: Happening,
    event_id: int | None,
) -> None:
    if told.memory != work.memory.get(key):
        work.memory[key] = told.memory
        work.touched.add(key)
    if told.type is None:
        return
    notice = probe_notice(happening, facts, work.pages[facts.probe_id], work.address)
    work.deliveries.append(
        NewDelivery(
            project_id=facts.project_id,
            channel_id=channel.row.id,
            event_id=event_id,
            order_key=str(facts.probe_id),
            kind=told.type,
            payload=notice.model_dump(mode="json"),
        )
    )


def _recent(work: _Pass, event: Event, rules: Rules) -> int:
    if rules.flap is None:
        return 1
    since = event.at - timedelta(minutes=rules.flap.window_minutes)
    return sum(1 for at in work.changes[event.probe_id] if since < at <= event.at)


def _widest_window(channels: Iterable[list[_Channel]]) -> float:
    return max(
        (c.rules.flap.window_minutes for chans in channels for c in chans if c.rules.flap),
        default=0.0,
    )


def _flapping(told: Told, rules: Rules, change: Change) -> Flapping | None:
    if told.type != "probe.flapping" or rules.flap is None:
        return None
    return Flapping(changes=change.recent_changes, window_minutes=rules.flap.window_minutes)


def _reminder(told: Told, facts: ProbeFacts, now: datetime) -> Reminder | None:
    if told.type != "probe.reminder":
        return None
    since = facts.incident_opened_at or facts.state_since or now
    return Reminder(number=told.memory.reminders_sent, open_for_s=(now - since).total_seconds())


def _clock_cause(kind: NoticeType | None, facts: ProbeFacts) -> str:
    if kind == "probe.settled":
        return f"stopped flapping; {facts.state}"
    texts = [str(reason.get("text", "")) for reason in facts.reasons]
    return "; ".join(text for text in texts if text) or f"still {facts.state}"


def _memory(row: Remembered) -> Memory:
    return Memory(
        told_state=row.told_state,
        alert_key=row.alert_key,
        flapping_since=row.flapping_since,
        last_change_at=row.last_change_at,
        reminders_sent=row.reminders_sent,
        next_reminder_at=row.next_reminder_at,
    )


def _remembered(key: tuple[uuid.UUID, uuid.UUID], memory: Memory) -> Remembered:
    fields: dict[str, Any] = {name: getattr(memory, name) for name in memory.__dataclass_fields__}
    return Remembered(channel_id=key[0], probe_id=key[1], **fields)
