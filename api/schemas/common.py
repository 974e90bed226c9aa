"""Types and checks every request body shares.

Strings reaching the database refuse NUL characters (PostgreSQL text cannot hold
them); secrets and tokens appear in a response only where it says "shown once".
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

from probes.kinds.options import KINDS


def no_nul(text: str) -> str:
    if "\x00" in text:
        raise ValueError("must not contain NUL characters")
    return text


def has_nul(value: object) -> bool:
    """Whether a JSON-like value holds a NUL character anywhere (jsonb cannot store one)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(item) for item in value.values())
    if isinstance(value, list):
        return any(has_nul(item) for item in value)
    return False


def _utc(moment: datetime) -> datetime:
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("date out of range") from exc


Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(no_nul)]
LocationName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
Target = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=1000), AfterValidator(no_nul)
]
Secret = Annotated[str, Field(min_length=1, max_length=1000), AfterValidator(no_nul)]
Tag = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,39}$")]
"""A probe label a channel's routing rules can pick ("trunks", "customer-a")."""


def _distinct(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(tags))


Tags = Annotated[list[Tag], Field(max_length=20), AfterValidator(_distinct)]
"""Up to 20 tags, each kept once in the order given."""
Kind = Literal["sip_call", "sip_options", "sip_register", "http", "tcp", "icmp", "push"]
Scope = Literal["read", "write"]
Moment = Annotated[AwareDatetime, AfterValidator(_utc)]
"""A date-time with an offset, normalised to UTC."""
Bound = Annotated[float, Field(allow_inf_nan=False)]

assert set(KINDS) == set(Kind.__args__)  # type: ignore[attr-defined]


class InputModel(BaseModel):
    """A request body: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


BIGINT_MAX = 2**63 - 1
"""The largest id a ``bigint`` column holds: a cursor past it is refused with a 422, not
sent to the database (where it fails as out of range)."""
