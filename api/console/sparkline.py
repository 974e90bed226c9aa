"""A 24-hour sparkline as SVG points, drawn on the server (no script needed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

WIDTH = 120
HEIGHT = 28
PAD = 2


@dataclass(frozen=True, kw_only=True, slots=True)
class Sparkline:
    """Polyline points and the range they span, for the image's text alternative."""

    points: str
    low: float
    high: float


def sparkline(values: Sequence[tuple[datetime, float]], end: datetime) -> Sparkline | None:
    """Hourly values over the 24 hours before ``end`` (None with fewer than two)."""
    if len(values) < 2:
        return None
    start = end - timedelta(hours=24)
    low, high = min(v for _, v in values), max(v for _, v in values)
    span = (high - low) or 1.0
    points = " ".join(
        f"{_x(at, start):.1f},{HEIGHT - PAD - (value - low) / span * (HEIGHT - 2 * PAD):.1f}"
        for at, value in values
    )
    return Sparkline(points=points, low=low, high=high)


def _x(at: datetime, start: datetime) -> float:
    share = (at - start).total_seconds() / timedelta(hours=24).total_seconds()
    return max(0.0, min(1.0, share)) * WIDTH
