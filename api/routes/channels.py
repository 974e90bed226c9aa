"""Notification channels of the caller's project: define, change, pause, test, rotate.

A channel is checked as a whole (plugin settings, rules, SSRF guard on every target) on
create and when a change moves where its secrets go (:mod:`api.services.channels`).
Secrets are sealed with the settings key and never returned.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Response

from api.errors import invalid
from api.schemas.channels import (
    ChannelCreate,
    ChannelOut,
    ChannelPatch,
    ChannelWithSecret,
    PayloadSchemas,
    TestSent,
)
from api.schemas.common import has_nul
from api.security.auth import Principal, Reader, Writer
from api.services import audit
from api.services import channels as checks
from api.services.notifications import seal, unseal
from api.services.sample_notices import sample
from api.services.snapshots import settings
from api.state import AppState, State
from notify.channels.webhook import new_signing_secret
from notify.payloads import CrispHealthChanged, ProbeNotice
from notify.rules import Rules
from store import channels, deliveries, projects, quotas
from store.pool import AsyncConn

router = APIRouter(prefix="/v1/channels", tags=["notification channels"])


@router.get("/schema", response_model=PayloadSchemas)
async def payload_schemas() -> PayloadSchemas:
    """The JSON Schemas of the documents channels send (public: no key needed)."""
    return PayloadSchemas(
        probe_notice=ProbeNotice.model_json_schema(),
        crisp_health_changed=CrispHealthChanged.model_json_schema(),
    )


@router.get("", response_model=list[ChannelOut])
async def list_channels(principal: Reader, st: State) -> list[ChannelWithSecret]:
    """The project's channels by name; of their secrets only which fields are set."""
    async with st.transaction() as conn:
        rows = await channels.sealed_channels(conn, principal.project_id)
    return [checks.out(row, unseal(st.settings, row.secret)) for row in rows]


@router.post("", status_code=201, response_model=ChannelWithSecret)
async def create_channel(body: ChannelCreate, principal: Writer, st: State) -> ChannelWithSecret:
    """Create a channel (409 ``quota_exceeded`` past the project's quota). A webhook sent
    without ``signing_secrets`` gets one, in ``signing_secret`` of this response only."""
    parsed = checks.settings(checks.plugin_of(body.kind), body.config, body.secrets)
    rules = _rules(body.rules)
    await checks.check_targets(st.guard, parsed)
    async with st.transaction() as conn:
        limit = st.settings.max_channels_per_project
        await quotas.claim(conn, principal.project_id, "channels", limit)
        row = await channels.create_channel(
            conn, principal.project_id, name=body.name, kind=body.kind,
            config=parsed.stored_config, secret=seal(st.settings, parsed.stored_secrets),
            rules=rules,
        )  # fmt: skip
        made = checks.out(row, parsed.stored_secrets, parsed.made_secret)
        await audit.record(conn, principal, "create", "channel", row.id, after=settings(made))
    return made


@router.get("/{channel_id}", response_model=ChannelOut)
async def get_channel(channel_id: uuid.UUID, principal: Reader, st: State) -> ChannelWithSecret:
    """One channel (never its secrets)."""
    async with st.transaction() as conn:
        return await _current(conn, st, principal, channel_id)


@router.patch("/{channel_id}", response_model=ChannelWithSecret)
async def update_channel(
    channel_id: uuid.UUID, body: ChannelPatch, principal: Writer, st: State
) -> ChannelWithSecret:
    """Change the name, ``config``, ``secrets`` or ``rules`` (each replaced as a whole).
    A change of where the secrets go (URL, SMTP host, port or user) must send them again
    and passes the SSRF guard."""
    async with st.transaction() as conn:
        current = await channels.sealed_channel(conn, principal.project_id, channel_id)
        plugin = checks.plugin_of(current.kind)
        stored = unseal(st.settings, current.secret)
        before = checks.settings(plugin, current.config, stored)
        after = checks.settings(
            plugin,
            current.config if body.config is None else body.config,
            stored if body.secrets is None else body.secrets,
        )
        if checks.destination(after) != checks.destination(before):
            if body.secrets is None:
                raise invalid(("body", "secrets"), checks.RESEND)
            await checks.check_targets(st.guard, after)
        rules = current.rules if body.rules is None else _rules(body.rules)
        row = await channels.update_channel(
            conn, principal.project_id, channel_id, name=body.name or current.name,
            config=after.stored_config, secret=seal(st.settings, after.stored_secrets),
            rules=rules,
        )  # fmt: skip
        changed = checks.out(row, after.stored_secrets, after.made_secret)
        await audit.record(
            conn, principal, "update", "channel", channel_id,
            before=settings(checks.out(current, stored)), after=settings(changed),
        )  # fmt: skip
    return changed


@router.delete("/{channel_id}", status_code=204, response_class=Response)
async def delete_channel(channel_id: uuid.UUID, principal: Writer, st: State) -> None:
    """Delete a channel with its delivery log; its queued notices are dropped."""
    async with st.transaction() as conn:
        gone = await channels.get_channel(conn, principal.project_id, channel_id)
        await channels.delete_channel(conn, principal.project_id, channel_id)
        await audit.record(conn, principal, "delete", "channel", channel_id, before=settings(gone))


@router.post("/{channel_id}/rotate-secret", response_model=ChannelWithSecret)
async def rotate_secret(
    channel_id: uuid.UUID, principal: Writer, st: State, finish: bool = False
) -> ChannelWithSecret:
    """Start a webhook's signing secret rotation: a new secret (in this response only)
    signs first and the current one second, so receivers verify with either while they
    switch. ``finish=true`` ends the rotation: only the newest secret signs."""
    async with st.transaction() as conn:
        current = await channels.sealed_channel(conn, principal.project_id, channel_id)
        if current.kind != "webhook":
            raise invalid(("path", "channel_id"), "only a webhook channel has a signing secret")
        secrets = unseal(st.settings, current.secret)
        keys: list[str] = secrets["signing_secrets"]
        made = None if finish else new_signing_secret()
        secrets["signing_secrets"] = keys[:1] if made is None else [made, keys[0]]
        row = await channels.update_channel(
            conn, principal.project_id, channel_id, name=current.name, config=current.config,
            secret=seal(st.settings, secrets), rules=current.rules,
        )  # fmt: skip
        action = "finish_secret_rotation" if finish else "rotate_secret"
        await audit.record(conn, principal, action, "channel", channel_id)
    return checks.out(row, secrets, made)


@router.post("/{channel_id}/pause", response_model=ChannelOut)
async def pause_channel(channel_id: uuid.UUID, principal: Writer, st: State) -> ChannelWithSecret:
    """Hold the channel's deliveries (none is dropped) until it is resumed."""
    return await _set_paused(st, principal, channel_id, paused=True)


@router.post("/{channel_id}/resume", response_model=ChannelOut)
async def resume_channel(channel_id: uuid.UUID, principal: Writer, st: State) -> ChannelWithSecret:
    """Send the channel's held deliveries again, in order."""
    return await _set_paused(st, principal, channel_id, paused=False)


@router.post("/{channel_id}/test", response_model=TestSent)
async def test_channel(channel_id: uuid.UUID, principal: Writer, st: State) -> TestSent:
    """Send a sample notice now (a paused channel too) and answer with what the receiver
    did; the attempt is in the channel's delivery log like any other."""
    now = datetime.now(UTC)
    async with st.transaction() as conn:
        row = await channels.get_channel(conn, principal.project_id, channel_id)
        project = await projects.get_project(conn, principal.project_id)
        kind, payload = sample(row, project.name, now)
        claimed = await deliveries.claim_new(
            conn, principal.project_id, channel_id, kind=kind, payload=payload, now=now,
            lease=st.dispatcher.lease,
        )  # fmt: skip
        await audit.record(conn, principal, "test_send", "channel", channel_id)
    outcome = await st.dispatcher.attempt(claimed, last=True)
    return TestSent(
        delivery_id=claimed.id,
        delivered=outcome.state == "delivered",
        state=outcome.state,  # type: ignore[arg-type]
        status_code=outcome.status_code,
        latency_ms=outcome.latency_ms,
        error=outcome.error,
    )


async def _current(
    conn: AsyncConn, st: AppState, principal: Principal, channel_id: uuid.UUID
) -> ChannelWithSecret:
    row = await channels.sealed_channel(conn, principal.project_id, channel_id)
    return checks.out(row, unseal(st.settings, row.secret))


async def _set_paused(
    st: AppState, principal: Principal, channel_id: uuid.UUID, *, paused: bool
) -> ChannelWithSecret:
    async with st.transaction() as conn:
        await channels.set_paused(conn, principal.project_id, channel_id, paused=paused)
        await audit.record(conn, principal, "pause" if paused else "resume", "channel", channel_id)
        return await _current(conn, st, principal, channel_id)


def _rules(rules: Rules) -> dict[str, Any]:
    stored: dict[str, Any] = rules.model_dump(mode="json")
    if has_nul(stored):
        raise invalid(("body", "rules"), "must not contain NUL characters")
    return stored
