"""Detail charts: the bucket by window, the window's bounds, markers and the axis range."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from statuspages.charts import Window, charts, window
from store.page_data import BucketMetrics

NOW = datetime(2026, 3, 10, 14, 37, 12, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("days", "width", "label"),
    [
        (1, timedelta(minutes=5), "5 min"),
        (7, timedelta(hours=1), "1 h"),
        (30, timedelta(hours=6), "6 h"),
        (90, timedelta(days=1), "1 day"),
    ],
)
def test_the_bucket_grows_with_the_window(days: int, width: timedelta, label: str) -> None:
    span = window(NOW, days, BERLIN)
    assert (span.width, span.label) == (width, label)
    assert span.end == NOW
    assert timedelta(days=days) <= span.end - span.start < timedelta(days=days) + width


@pytest.mark.parametrize(
    ("days", "zone", "start"),
    [
        # 15:37:12 in Berlin (UTC+1 until 29 March) floors to 15:35 local.
        (1, BERLIN, datetime(2026, 3, 9, 14, 35, tzinfo=UTC)),
        (7, BERLIN, datetime(2026, 3, 3, 14, 0, tzinfo=UTC)),
        (30, BERLIN, datetime(2026, 2, 8, 11, 0, tzinfo=UTC)),  # 12:00 Berlin
        (90, BERLIN, datetime(2025, 12, 9, 23, 0, tzinfo=UTC)),  # midnight Berlin
        (90, ZoneInfo("UTC"), datetime(2025, 12, 10, tzinfo=UTC)),
        (30, ZoneInfo("Asia/Kolkata"), datetime(2026, 2, 8, 12, 30, tzinfo=UTC)),  # 18:00
    ],
)
def test_the_window_starts_on_a_bucket_boundary_of_the_page_zone(
    days: int, zone: ZoneInfo, start: datetime
) -> None:
    assert window(NOW, days, zone).start == start


def _row(at: datetime, mos: float | None = 4.2) -> BucketMetrics:
    return BucketMetrics(bucket=at, mos=mos, jitter_ms=1.5, loss_pct=0.0, pdd_ms=120.0)


def _figures(rows: list[BucketMetrics], span: Window) -> list[dict[str, object]]:
    return [json.loads(chart.figure_json) for chart in charts(rows, span, BERLIN)]


def test_a_single_bucket_is_a_marker_on_an_axis_spanning_the_window() -> None:
    span = window(NOW, 1, BERLIN)
    figures = _figures([_row(NOW - timedelta(minutes=2))], span)
    assert len(figures) == 4
    for figure in figures:
        (trace,) = figure["data"]  # type: ignore[misc]
        assert "markers" in trace["mode"]
        assert len(trace["x"]) == 1
        assert figure["layout"]["xaxis"]["range"] == [  # type: ignore[index]
            "2026-03-09T15:35:00+01:00",
            "2026-03-10T15:37:12+01:00",
        ]


def test_the_summary_names_the_bucket() -> None:
    span = window(NOW, 7, BERLIN)
    rows = [_row(NOW - timedelta(hours=3), 4.0), _row(NOW - timedelta(hours=2), 4.4)]
    mos = charts(rows, span, BERLIN)[0]
    assert mos.summary == "mean 4.20 MOS-LQO, min 4.00, max 4.40 over 2 periods of 1 h"


def test_missing_buckets_break_the_line() -> None:
    span = window(NOW, 7, BERLIN)
    hour = datetime(2026, 3, 10, 10, tzinfo=UTC)
    rows = [_row(hour), _row(hour + timedelta(hours=1)), _row(hour + timedelta(hours=4))]
    (trace,) = _figures(rows, span)[0]["data"]  # type: ignore[misc]
    assert trace["y"] == [4.2, 4.2, None, 4.2]
    assert trace["x"][2] == "2026-03-10T13:00:00+01:00"


def test_metrics_nobody_measured_have_no_chart() -> None:
    span = window(NOW, 1, BERLIN)
    rows = [BucketMetrics(bucket=NOW, mos=None, jitter_ms=None, loss_pct=None, pdd_ms=80.0)]
    assert [chart.title for chart in charts(rows, span, BERLIN)] == ["Post-dial delay"]


def test_no_results_no_charts() -> None:
    assert charts([], window(NOW, 7, BERLIN), BERLIN) == []
