"""Stored rows as the status page code receives them, for unit tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from store.page_data import PlannedWindow
from store.state_history import StateChange, StateHistory
from store.status_pages import Component, Page


def make_page(**fields: Any) -> Page:
    """A page with plain defaults (UTC, 90-day bars, degraded is down)."""
    defaults: dict[str, Any] = {
        "id": uuid.uuid4(),
        "project_id": uuid.uuid4(),
        "slug": "acme",
        "name": "Acme status",
        "description": "",
        "time_zone": "UTC",
        "bar_days": 90,
        "degraded_is_up": False,
        "primary_color": "#1565c0",
        "frame_ancestors": [],
        "refresh_s": 60,
        "custom_domain": None,
        "domain_token": "token",
        "domain_verified_at": None,
        "images": [],
        "created_at": datetime(2026, 1, 1, tzinfo=UTC),
        "updated_at": datetime(2026, 1, 1, tzinfo=UTC),
    }
    return Page(**{**defaults, **fields})


def make_component(
    name: str, *, group: str | None = None, position: int = 0, description: str = ""
) -> Component:
    """A component of a new probe, its public id made from its name."""
    return Component(
        probe_id=uuid.uuid4(),
        public_id=f"pub-{name.lower()}",
        position=position,
        name=name,
        description=description,
        group_name=group,
    )


def make_history(before: str, *changes: tuple[datetime, str]) -> StateHistory:
    """A history without reasons."""
    return StateHistory(before=before, changes=[StateChange(at, s, []) for at, s in changes])


def make_window(
    start: datetime, end: datetime, probe: uuid.UUID | None = None, title: str = "Work"
) -> PlannedWindow:
    return PlannedWindow(id=uuid.uuid4(), probe_id=probe, title=title, starts_at=start, ends_at=end)
