"""Notification channels: the list with each one's latest deliveries, a form per kind,
and a channel's page with test-send (its outcome shown), pause/resume, delete and the
delivery log with each attempt and a Redeliver button; all through the API's routes."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.console import channel_fields, forms, render
from api.console.forms import Problems
from api.console.session import Form, Member, Refused, Seat, editor
from api.routes import channels as api_channels
from api.routes import deliveries as api_deliveries
from api.schemas.channels import ChannelCreate
from api.state import of as state_of

router = APIRouter(prefix="/console/p/{project_id}/settings/channels", include_in_schema=False)

RECENT = 3
LOG = 50


@router.get("", response_class=HTMLResponse)
async def channels_page(request: Request, seat: Member) -> Response:
    st = state_of(request.app)
    listed = await api_channels.list_channels(seat.principal, st)
    recent = {c.id: await _log(request, seat, c.id, RECENT) for c in listed}
    return render.page(
        request, "channels.html.j2", seat=seat, section="Settings", channels=listed,
        recent=recent, kinds=channel_fields.KINDS,
    )  # fmt: skip


@router.get("/new", response_class=HTMLResponse)
async def new_channel(request: Request, seat: Member, kind: str = "webhook") -> Response:
    editor(seat)
    return _form(request, seat, _kind(kind))


@router.post("/new", response_class=Response)
async def create_channel(request: Request, seat: Member, posted: Form) -> Response:
    """Create a channel; a webhook's signing secret made for it is shown this once."""
    editor(seat)
    st, problems = state_of(request.app), Problems()
    kind = _kind(str(posted.get("kind", "")))
    body = forms.parse(ChannelCreate, channel_fields.body(kind, posted), problems)
    made = None
    if body is not None:
        made = await forms.attempt(
            lambda: api_channels.create_channel(body, seat.principal, st), problems
        )
    if made is None:
        return _form(request, seat, kind, 422, problems=problems, posted=posted)
    if made.signing_secret:
        return await _detail(request, seat, made.id, 201, signing_secret=made.signing_secret)
    return render.redirect(_base(seat, made.id))


@router.get("/{channel_id}", response_class=HTMLResponse)
async def channel_page(request: Request, channel_id: uuid.UUID, seat: Member) -> Response:
    return await _detail(request, seat, channel_id)


@router.post("/{channel_id}/test", response_class=Response)
async def test_send(
    request: Request, channel_id: uuid.UUID, seat: Member, posted: Form
) -> Response:
    """Send a sample notice now; the page shows what the receiver did."""
    editor(seat)
    st, problems = state_of(request.app), Problems()
    sent = await forms.attempt(
        lambda: api_channels.test_channel(channel_id, seat.principal, st), problems
    )
    return await _detail(request, seat, channel_id, tested=sent, problems=problems)


@router.post("/{channel_id}/pause", response_class=Response)
async def pause(request: Request, channel_id: uuid.UUID, seat: Member, posted: Form) -> Response:
    st = state_of(request.app)
    return await _act(
        request,
        seat,
        channel_id,
        lambda: api_channels.pause_channel(channel_id, seat.principal, st),
    )


@router.post("/{channel_id}/resume", response_class=Response)
async def resume(request: Request, channel_id: uuid.UUID, seat: Member, posted: Form) -> Response:
    st = state_of(request.app)
    return await _act(
        request,
        seat,
        channel_id,
        lambda: api_channels.resume_channel(channel_id, seat.principal, st),
    )


@router.post("/{channel_id}/delete", response_class=Response)
async def delete(request: Request, channel_id: uuid.UUID, seat: Member, posted: Form) -> Response:
    editor(seat)
    st, problems = state_of(request.app), Problems()
    await forms.attempt(
        lambda: api_channels.delete_channel(channel_id, seat.principal, st), problems
    )
    if problems:
        return await _detail(request, seat, channel_id, 409, problems=problems)
    return render.redirect(_base(seat))


@router.post("/{channel_id}/deliveries/{delivery_id}/redeliver", response_class=Response)
async def redeliver(
    request: Request, channel_id: uuid.UUID, delivery_id: uuid.UUID, seat: Member, posted: Form
) -> Response:
    st = state_of(request.app)
    return await _act(
        request, seat, channel_id, lambda: api_deliveries.redeliver(delivery_id, seat.principal, st)
    )


async def _act(
    request: Request, seat: Seat, channel_id: uuid.UUID, action: Callable[[], Awaitable[Any]]
) -> Response:
    """An editor's change through an API route; back to the channel, or why not."""
    editor(seat)
    problems = Problems()
    if await forms.attempt(action, problems) is None:
        return await _detail(request, seat, channel_id, 409, problems=problems)
    return render.redirect(_base(seat, channel_id))


async def _detail(
    request: Request, seat: Seat, channel_id: uuid.UUID, status: int = 200, **context: Any
) -> Response:
    st, problems = state_of(request.app), Problems()
    found = await forms.attempt(
        lambda: api_channels.get_channel(channel_id, seat.principal, st), problems
    )
    if found is None:
        raise Refused(404, "no such channel in this project")
    return render.page(
        request, "channels_detail.html.j2", status, seat=seat, section="Settings",
        channel=found, log=await _log(request, seat, channel_id, LOG),
        problems=context.pop("problems", Problems()), **context,
    )  # fmt: skip


async def _log(request: Request, seat: Seat, channel_id: uuid.UUID, limit: int) -> list[Any]:
    return await api_deliveries.channel_deliveries(
        channel_id=channel_id, principal=seat.principal, st=state_of(request.app),
        state=None, before=None, limit=limit,
    )  # fmt: skip


def _form(request: Request, seat: Seat, kind: str, status: int = 200, **context: Any) -> Response:
    label, fields = channel_fields.KINDS[kind]
    return render.page(
        request, "channels_form.html.j2", status, seat=seat, section="Settings", kind=kind,
        label=label, fields=fields, kinds=channel_fields.KINDS,
        problems=context.pop("problems", Problems()), posted=context.pop("posted", {}),
    )  # fmt: skip


def _kind(kind: str) -> str:
    if kind not in channel_fields.KINDS:
        raise Refused(404, "no such kind of channel")
    return kind


def _base(seat: Seat, channel_id: uuid.UUID | None = None) -> str:
    base = f"/console/p/{seat.project_id}/settings/channels"
    return base if channel_id is None else f"{base}/{channel_id}"
