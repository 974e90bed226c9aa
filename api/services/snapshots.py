"""Settings as the audit log keeps them: JSON-ready, with secrets and tokens left out.

A stored row (a dataclass) or a response model becomes a flat dict of its fields; any
field whose name says it holds a secret or a token is dropped, whatever the caller
passes, so an audit entry never carries one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

SECRET_FIELDS = frozenset(
    {
        "secret",
        "secrets",
        "sealed_secret",
        "signing_secret",
        "token",
        "token_hash",
        "push_token",
        "push_token_hash",
        "password",
        "password_hash",
    }
)
NOISE_FIELDS = frozenset({"id", "project_id", "created_at", "updated_at"})
"""Fields every change moves, or the entry names already (its target id): no help in a
before/after."""


def settings(row: object, *, only: Iterable[str] | None = None) -> dict[str, Any]:
    """``row``'s fields as JSON values, secrets left out (and only ``only`` when given)."""
    if isinstance(row, BaseModel):
        data: dict[str, Any] = row.model_dump(mode="json")
    elif dataclasses.is_dataclass(row) and not isinstance(row, type):
        data = to_jsonable_python(dataclasses.asdict(row))
    else:
        data = dict(to_jsonable_python(row))
    wanted = None if only is None else set(only)
    return {
        name: value
        for name, value in data.items()
        if name not in SECRET_FIELDS
        and name not in NOISE_FIELDS
        and (wanted is None or name in wanted)
    }


PAGE_SETTINGS = (
    "slug", "name", "description", "time_zone", "bar_days", "degraded_is_up", "primary_color",
    "frame_ancestors", "refresh_s", "custom_domain", "images",
)  # fmt: skip
COMPONENT_SETTINGS = ("probe_id", "name", "description", "group_name")


def page_settings(page: object, components: Iterable[object]) -> dict[str, Any]:
    """A status page's settings with its components in display order."""
    shown = settings(page, only=PAGE_SETTINGS)
    shown["components"] = [settings(c, only=COMPONENT_SETTINGS) for c in components]
    return shown
