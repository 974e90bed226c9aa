"""Plotly figures of a component's call quality over a window, for the detail view.

The bucket grows with the window (5 min over a day, 1 day over 90 days) so a chart
has at most a few hundred points; each is drawn as a marker, so a new probe's single
bucket shows, and the time axis always spans the whole window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from store.page_data import BucketMetrics

SERIES = (
    ("mos", "MOS", "MOS-LQO"),
    ("jitter_ms", "Jitter", "ms"),
    ("loss_pct", "Packet loss", "%"),
    ("pdd_ms", "Post-dial delay", "ms"),
)

BUCKETS: dict[int, tuple[timedelta, str]] = {
    1: (timedelta(minutes=5), "5 min"),
    7: (timedelta(hours=1), "1 h"),
    30: (timedelta(hours=6), "6 h"),
    90: (timedelta(days=1), "1 day"),
}
"""Chart window in days: its bucket width and how the page names it."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Window:
    """What a detail view charts: ``[start, end)`` in buckets of ``width``."""

    start: datetime
    end: datetime
    width: timedelta
    label: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Chart:
    """One figure as JSON safe to embed in a ``<script type="application/json">``."""

    title: str
    summary: str
    figure_json: str


def window(now: datetime, days: int, zone: ZoneInfo) -> Window:
    """The ``days`` before ``now``, starting on a bucket boundary of the page's time zone
    (where TimescaleDB's ``time_bucket(width, ts, zone)`` puts them)."""
    width, label = BUCKETS[days]
    local = (now - timedelta(days=days)).astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    start = midnight + (local - midnight) // width * width
    return Window(start=start.astimezone(now.tzinfo), end=now, width=width, label=label)


def charts(rows: Sequence[BucketMetrics], span: Window, zone: ZoneInfo) -> list[Chart]:
    """A chart per metric that has any value over ``rows`` (one mean per bucket)."""
    # plotly is imported here, not at module level: it is large and only this
    # view needs it, so the page server's memory stays small.
    import plotly.io as pio  # noqa: PLC0415

    found = []
    for attribute, title, unit in SERIES:
        points = with_gaps([(r.bucket, getattr(r, attribute)) for r in rows], span.width)
        values = [v for _, v in points if v is not None]
        if not values:
            continue
        figure = _figure(points, span, zone, title, unit)
        periods = "period" if len(values) == 1 else "periods"
        summary = (
            f"mean {sum(values) / len(values):.2f} {unit}, min {min(values):.2f}, "
            f"max {max(values):.2f} over {len(values)} {periods} of {span.label}"
        )
        text = pio.to_json(figure, validate=False, engine="json")
        found.append(Chart(title=title, summary=summary, figure_json=_script_safe(text)))
    return found


def _figure(
    points: Sequence[tuple[datetime, float | None]],
    span: Window,
    zone: ZoneInfo,
    title: str,
    unit: str,
) -> Any:
    import plotly.graph_objects as go  # noqa: PLC0415

    def local(at: datetime) -> str:
        return at.astimezone(zone).isoformat()

    return go.Figure(
        go.Scatter(
            x=[local(at) for at, _ in points],
            y=[v for _, v in points],
            mode="lines+markers",
            marker={"size": 6},
            name=title,
            connectgaps=False,
            hovertemplate=f"%{{x}}<br>%{{y:.2f}} {unit}<extra></extra>",
        ),
        layout={
            "height": 260,
            "margin": {"l": 50, "r": 10, "t": 10, "b": 40},
            "xaxis": {"type": "date", "range": [local(span.start), local(span.end)]},
            "yaxis": {"title": {"text": f"{title} ({unit})"}},
        },
    )


def with_gaps(
    points: Sequence[tuple[datetime, float | None]], width: timedelta
) -> list[tuple[datetime, float | None]]:
    """``points`` with a blank after each bucket the next one does not follow, so the
    line breaks where nothing was measured instead of bridging the gap."""
    out = list(points[:1])
    for earlier, later in pairwise(points):
        # 1.5 widths: a local day across a daylight saving change lasts 23 or 25 hours.
        if later[0] - earlier[0] > width * 1.5:
            out.append((earlier[0] + width, None))
        out.append(later)
    return out


def _script_safe(text: str) -> str:
    """JSON that cannot close its ``<script>`` element or open a comment."""
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
