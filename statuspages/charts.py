"""Plotly figures of a component's hourly call quality, for the detail view."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from store.page_data import HourlyMetrics

SERIES = (
    ("mos", "MOS", "MOS-LQO"),
    ("jitter_ms", "Jitter", "ms"),
    ("loss_pct", "Packet loss", "%"),
    ("pdd_ms", "Post-dial delay", "ms"),
)


@dataclass(frozen=True, kw_only=True, slots=True)
class Chart:
    """One figure as JSON safe to embed in a ``<script type="application/json">``."""

    title: str
    summary: str
    figure_json: str


def charts(rows: Sequence[HourlyMetrics], zone: ZoneInfo) -> list[Chart]:
    """A chart per metric that has any value over ``rows`` (hourly means)."""
    # plotly is imported here, not at module level: it is large and only this
    # view needs it, so the page server's memory stays small.
    import plotly.graph_objects as go  # noqa: PLC0415
    import plotly.io as pio  # noqa: PLC0415

    found = []
    for attribute, title, unit in SERIES:
        points = [(r.bucket, getattr(r, attribute)) for r in rows]
        values = [v for _, v in points if v is not None]
        if not values:
            continue
        figure = go.Figure(
            go.Scatter(
                x=[at.astimezone(zone).isoformat() for at, _ in points],
                y=[v for _, v in points],
                mode="lines",
                name=title,
                connectgaps=False,
                hovertemplate=f"%{{x}}<br>%{{y:.2f}} {unit}<extra></extra>",
            ),
            layout={
                "height": 260,
                "margin": {"l": 50, "r": 10, "t": 10, "b": 40},
                "yaxis": {"title": {"text": f"{title} ({unit})"}},
            },
        )
        summary = (
            f"mean {sum(values) / len(values):.2f} {unit}, "
            f"min {min(values):.2f}, max {max(values):.2f} over {len(values)} hours"
        )
        text = pio.to_json(figure, validate=False, engine="json")
        found.append(Chart(title=title, summary=summary, figure_json=_script_safe(text)))
    return found


def _script_safe(text: str) -> str:
    """JSON that cannot close its ``<script>`` element or open a comment."""
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
