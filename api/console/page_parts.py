"""The status page editor's forms as the API's request bodies: posted fields in, the
dictionaries the API's pydantic models validate out (the models, not this module, decide
what is valid), and a posted image file as the raw body the upload route reads."""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from typing import Any

from fastapi import Request
from starlette.datastructures import FormData, UploadFile
from starlette.types import Message

from api.console.forms import FORM_LEVEL, Problems
from api.schemas.pages import PageOut

SETTINGS = ("name", "slug", "description", "time_zone", "bar_days", "primary_color",
            "refresh_s", "custom_domain")  # fmt: skip
"""The editor's text fields, as named in :class:`api.schemas.pages.PageUpdate`."""


def text(posted: FormData, name: str) -> str:
    value = posted.get(name)
    return value.strip() if isinstance(value, str) else ""


def settings_values(page: PageOut) -> dict[str, str]:
    """The settings form filled from the stored page."""
    values = {name: str(getattr(page, name) or "") for name in SETTINGS}
    values["custom_domain"] = page.custom_domain.name if page.custom_domain else ""
    values["frame_ancestors"] = "\n".join(page.frame_ancestors)
    values["degraded_is_up"] = "on" if page.degraded_is_up else ""
    return values


def posted_settings(posted: FormData) -> dict[str, str]:
    """The settings form as posted (shown again beside the messages when refused)."""
    values = {name: text(posted, name) for name in (*SETTINGS, "frame_ancestors")}
    values["degraded_is_up"] = "on" if text(posted, "degraded_is_up") else ""
    return values


def settings_body(values: dict[str, str]) -> dict[str, Any]:
    """A ``PageUpdate`` body: every field the form shows (a blank domain removes it)."""
    body: dict[str, Any] = {name: values[name] for name in SETTINGS}
    body["custom_domain"] = values["custom_domain"] or None
    body["frame_ancestors"] = values["frame_ancestors"].split()
    body["degraded_is_up"] = values["degraded_is_up"] == "on"
    return body


def posted_components(posted: FormData) -> list[dict[str, Any]]:
    """The components table as posted, in its order, with the move asked for done."""
    count = int(text(posted, "count")) if text(posted, "count").isdigit() else 0
    rows = [
        {
            "probe_id": text(posted, f"c-{i}-probe"),
            "name": text(posted, f"c-{i}-name"),
            "description": text(posted, f"c-{i}-description"),
            "group": text(posted, f"c-{i}-group") or None,
        }
        for i in range(min(count, 500))
    ]
    return moved(rows, text(posted, "move"))


def moved(rows: list[dict[str, Any]], move: str) -> list[dict[str, Any]]:
    """``rows`` after ``move`` ("3:up", "3:down", "3:remove"; anything else: unchanged)."""
    where, _, how = move.partition(":")
    if not where.isdigit() or int(where) >= len(rows):
        return rows
    i = int(where)
    other = {"up": i - 1, "down": i + 1}.get(how)
    if how == "remove":
        return rows[:i] + rows[i + 1 :]
    if other is not None and 0 <= other < len(rows):
        rows[i], rows[other] = rows[other], rows[i]
    return rows


def component_rows(page: PageOut) -> list[dict[str, Any]]:
    """The components table filled from the stored page."""
    return [
        {
            "probe_id": str(c.probe_id),
            "name": c.name,
            "description": c.description,
            "group": c.group,
        }
        for c in page.components
    ]


def moment(value: str, zone: str) -> str | None:
    """A ``datetime-local`` field read in the page's time zone, as ISO 8601 with its
    offset; None when blank; as typed when unreadable (the model then says why)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zoneinfo.ZoneInfo(zone))
    return parsed.isoformat()


def beside(problems: Problems, *fields: str) -> Problems:
    """``problems`` with list items under their list's name ("frame_ancestors.0" beside
    "frame_ancestors") and a whole-form message naming one of ``fields`` beside it."""
    placed = Problems()
    for where, message in problems.by_field.items():
        placed.add(_place(where, message, fields), message)
    return placed


def _place(where: str, message: str, fields: tuple[str, ...]) -> str:
    head = where.split(".", 1)[0]
    if head in fields and head != "components":
        return head
    if where == FORM_LEVEL:
        return next((f for f in fields if f.replace("_", " ") in message), FORM_LEVEL)
    return where


async def upload_request(request: Request, upload: UploadFile) -> tuple[Request, int]:
    """The posted file as the request the API's upload route reads (its body is the
    raw image), and the file's size."""
    data = await upload.read()
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": data, "more_body": False}

    return Request(request.scope, receive), len(data)
