"""Forms as the API's own models see them, and the API's refusals as messages beside the
fields: a console form is parsed by the same pydantic model and handled by the same
route function as the JSON request, so every rule lives in one place.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException

from store.errors import StoreError

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

FORM_LEVEL = ""
"""The key of a message about the whole form rather than one field."""


@dataclass
class Problems:
    """Messages by field (dotted path below the body; ``""`` for the whole form)."""

    by_field: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.by_field)

    def add(self, where: str, message: str) -> None:
        self.by_field.setdefault(where, message)

    def get(self, where: str) -> str | None:
        return self.by_field.get(where)


def parse(model: type[M], data: object, problems: Problems) -> M | None:
    """``data`` as ``model``; None (and ``problems`` filled) when it does not fit."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(part) for part in error.get("loc", ()))
            problems.add(where, str(error.get("msg", "invalid")))
        return None


async def attempt(action: Callable[[], Awaitable[T]], problems: Problems) -> T | None:
    """Run an API route function; its refusal becomes messages (and None is returned)."""
    try:
        return await action()
    except RequestValidationError as exc:
        for error in exc.errors():
            problems.add(_where(error.get("loc", ())), str(error.get("msg", "invalid")))
    except HTTPException as exc:
        problems.add(FORM_LEVEL, str(exc.detail))
    except StoreError as exc:
        if exc.http_status >= 500:
            raise
        problems.add(FORM_LEVEL, str(exc))
    return None


def _where(loc: object) -> str:
    """A request error's place below the request part it names (body, query, path)."""
    parts = [str(part) for part in loc] if isinstance(loc, (list, tuple)) else []
    if parts[:1] in (["body"], ["query"], ["path"]):
        parts = parts[1:]
    return ".".join(parts)
