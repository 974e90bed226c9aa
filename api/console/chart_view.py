"""The probe detail's charts: the range a visitor asked for, and per chart its series
(each result for a day or less, hourly buckets beyond), as JSON that
``static/probe_charts.js`` hands to plotly.

Pure: rows in, a document out. A value that was not measured stays null, so a silent
call leaves a gap instead of a score.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import groupby
from typing import Any

from markupsafe import Markup

from api.routes.results import MAX_SPAN
from probes.result import CallResult
from statuspages.charts import with_gaps
from store.console_reads import AsrBucket
from store.results_query import Bucket

RANGES: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
}
DEFAULT_RANGE = "24h"
RAW_UP_TO = timedelta(hours=24)
"""Ranges up to a day chart every result; longer ones chart hourly buckets."""
HOURLY = timedelta(hours=1)
RAW_LIMIT = 10_000


class BadRange(ValueError):
    """The range asked for cannot be charted; the message says why."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Span:
    """What the page shows: ``[start, end)``, named by its preset or ``custom``."""

    start: datetime
    end: datetime
    name: str

    @property
    def raw(self) -> bool:
        return self.end - self.start <= RAW_UP_TO

    @property
    def asr_width(self) -> timedelta:
        return timedelta(minutes=5) if self.end - self.start <= HOURLY else HOURLY

    def query(self) -> dict[str, str]:
        """The query parameters that ask for this span again."""
        if self.name in RANGES:
            return {"range": self.name}
        return {"from": _local(self.start), "to": _local(self.end)}


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    column: str
    dash: str | None = None
    stat: str = "avg"


@dataclass(frozen=True, slots=True)
class ChartSpec:
    id: str
    title: str
    unit: str
    series: tuple[Series, ...]


CHARTS = (
    ChartSpec("mos", "MOS", "MOS", (
        Series("PESQ", "pesq_mos"), Series("PESQ codec ceiling", "pesq_ceiling", "dot"),
        Series("E-model MOS", "emodel_mos"),
    )),
    ChartSpec("r", "R-factor and its impairments", "R", (
        Series("R", "r_factor"), Series("R0", "r0", "dot"),
        Series("Ie-eff (codec and loss)", "ie_eff"), Series("Id (delay)", "id_delay"),
    )),
    ChartSpec("loss", "Packet loss", "%", (
        Series("received", "rx_loss_pct"), Series("sent (far end's RTCP)", "tx_loss_pct"),
    )),
    ChartSpec("jitter", "Jitter", "ms", (
        Series("mean", "jitter_ms"), Series("max", "jitter_max_ms", "dot", "max"),
    )),
    ChartSpec("rtt", "Round trip (RTCP)", "ms", (Series("RTT", "rtt_ms"),)),
    ChartSpec("pdd", "Post-dial delay", "ms", (Series("PDD", "pdd_ms"),)),
    ChartSpec("setup", "Setup time (INVITE to 200)", "ms", (Series("setup", "setup_ms"),)),
)  # fmt: skip
ASR_CHART = ChartSpec("asr", "Answer-seizure ratio (ITU-T E.411)", "%", (Series("ASR", ""),))
COLUMNS = tuple(dict.fromkeys(s.column for chart in CHARTS for s in chart.series))
"""The result columns the charts read (bucketed: averaged, jitter's maximum maximised)."""

Point = tuple[datetime, float | None]


@dataclass(frozen=True, kw_only=True, slots=True)
class Charts:
    """The charts (for the page's figures and captions) and all of them as JSON."""

    charts: list[dict[str, Any]]
    json: Markup


def span_of(name: str | None, start: str | None, end: str | None, now: datetime) -> Span:
    """The span of ``range=name`` or of ``from=start&to=end`` (``to`` defaults to now)."""
    if start or end:
        return _custom(start, end, now)
    name = name or DEFAULT_RANGE
    if name not in RANGES:
        raise BadRange(f"unknown range {name[:20]!r}: choose 1h, 24h, 7d, 30d or 90d")
    return Span(start=now - RANGES[name], end=now, name=name)


def raw_document(rows: Sequence[CallResult], asr: Sequence[AsrBucket], span: Span) -> Charts:
    """Charts of each result (newest first in ``rows``), a line per location."""
    ordered = sorted(rows, key=lambda r: (r.location or "", r.started_at))
    by_place = [(place, list(group)) for place, group in groupby(ordered, lambda r: r.location)]

    def series(spec: Series) -> list[tuple[str, list[Point]]]:
        named = [
            (spec.name if len(by_place) == 1 else f"{spec.name} at {place}", group)
            for place, group in by_place
        ]
        return [(n, [(r.started_at, getattr(r, spec.column)) for r in g]) for n, g in named]

    return _document(span, "each result", series, asr)


def bucket_document(buckets: Sequence[Bucket], asr: Sequence[AsrBucket], span: Span) -> Charts:
    """Charts of hourly means (jitter's maximum: the bucket's maximum)."""

    def series(spec: Series) -> list[tuple[str, list[Point]]]:
        points = [(b.bucket, getattr(b.metrics[spec.column], spec.stat)) for b in buckets]
        return [(spec.name, with_gaps(points, HOURLY))]

    return _document(span, "hourly means", series, asr)


def _document(
    span: Span,
    mode: str,
    series: Callable[[Series], list[tuple[str, list[Point]]]],
    asr: Sequence[AsrBucket],
) -> Charts:
    charts = [
        _chart(spec, [(s, n, p) for s in spec.series for n, p in series(s)]) for spec in CHARTS
    ]
    asr_points = with_gaps([(b.bucket, b.asr_pct) for b in asr], span.asr_width)
    charts.append(_chart(ASR_CHART, [(ASR_CHART.series[0], "ASR", asr_points)]))
    body = {"range": span.name, "mode": mode, "start": _x(span.start), "end": _x(span.end)}
    text = json.dumps({**body, "charts": charts}, allow_nan=False)
    # Safe inside <script type="application/json">: nothing can close the element.
    safe = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Charts(charts=charts, json=Markup(safe))  # noqa: S704


def _chart(spec: ChartSpec, lines: Sequence[tuple[Series, str, list[Point]]]) -> dict[str, Any]:
    """The chart's lines that have any value (a line of nothing only crowds the legend)."""
    drawn = [
        {
            "name": name,
            "dash": s.dash,
            "x": [_x(at) for at, _ in points],
            "y": [v for _, v in points],
        }
        for s, name, points in lines
        if any(v is not None for _, v in points)
    ]
    return {"id": spec.id, "title": spec.title, "unit": spec.unit, "series": drawn,
            "summary": _summary(drawn, spec.unit)}  # fmt: skip


def _summary(drawn: Sequence[dict[str, Any]], unit: str) -> str | None:
    """Mean, minimum and maximum of the first line with values (None: nothing measured)."""
    for line in drawn:
        values = [v for v in line["y"] if v is not None]
        if values:
            mean = sum(values) / len(values)
            return (
                f"{line['name']}: mean {mean:.2f}, min {min(values):.2f},"
                f" max {max(values):.2f} {unit} over {len(values)} points"
            )
    return None


def _custom(start: str | None, end: str | None, now: datetime) -> Span:
    if not start:
        raise BadRange("a custom range needs 'from' as well as 'to'")
    begin = _moment("from", start)
    finish = _moment("to", end) if end else now
    if begin >= finish:
        raise BadRange("'from' must be before 'to'")
    if finish - begin > MAX_SPAN:
        raise BadRange(f"a range may span at most {MAX_SPAN.days} days")
    return Span(start=begin, end=finish, name="custom")


def _moment(label: str, text: str) -> datetime:
    """An ISO 8601 date and time; without an offset it is UTC."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise BadRange(
            f"'{label}' is not a date and time such as 2025-05-01T09:30: {text[:40]!r}"
        ) from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _x(at: datetime) -> str:
    """A time as plotly reads it (it ignores offsets): UTC without one."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _local(at: datetime) -> str:
    """A UTC time as a ``datetime-local`` input shows it."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")
