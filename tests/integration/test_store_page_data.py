"""Detail chart series from a real TimescaleDB: raw results in 5 min buckets, the hourly
rollup in day buckets of the page's zone, both where ``statuspages.charts.window`` puts
bucket boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from probes.result import CallResult, Outcome
from statuspages.charts import window
from store import page_data, results
from tests.integration.conftest import new_probe

pytestmark = pytest.mark.db

NOW = datetime(2026, 3, 10, 14, 37, tzinfo=UTC)
BERLIN = "Europe/Berlin"


async def _store(conn, project, probe, at: datetime, mos: float) -> None:
    call = CallResult(
        target="sip:t@h", outcome=Outcome.OK, probe_id=probe, location="ams", started_at=at,
        pesq_mos=mos, jitter_ms=2.0, rx_loss_pct=1.0, tx_loss_pct=3.0, pdd_ms=100.0,
    )  # fmt: skip
    await results.insert_results(conn, [call], project)
    await results.add_to_rollups(conn, [call.run_id])


async def _series(conn, probe, days: int) -> list[page_data.BucketMetrics]:
    span = window(NOW, days, ZoneInfo(BERLIN))
    return await page_data.metric_buckets(
        conn, probe, start=span.start, end=span.end, width=span.width, zone=BERLIN
    )


def test_a_day_is_read_from_results_in_five_minute_buckets(conn, run) -> None:
    project, probe = run(new_probe(conn))
    for minutes, mos in ((3, 4.0), (5, 4.4), (12, 3.0)):
        run(_store(conn, project, probe, NOW - timedelta(minutes=minutes), mos))
    rows = run(_series(conn, probe, 1))
    assert [row.bucket for row in rows] == [
        datetime(2026, 3, 10, 14, 25, tzinfo=UTC),
        datetime(2026, 3, 10, 14, 30, tzinfo=UTC),
    ]
    assert [row.mos for row in rows] == [3.0, pytest.approx(4.2)]
    assert (rows[1].jitter_ms, rows[1].loss_pct, rows[1].pdd_ms) == (2.0, 3.0, 100.0)


def test_ninety_days_are_read_from_the_rollup_in_days_of_the_page_zone(conn, run) -> None:
    project, probe = run(new_probe(conn))
    run(_store(conn, project, probe, datetime(2026, 3, 9, 22, 30, tzinfo=UTC), 4.0))  # 9th
    run(_store(conn, project, probe, datetime(2026, 3, 9, 23, 30, tzinfo=UTC), 3.0))  # 10th
    run(_store(conn, project, probe, datetime(2026, 3, 10, 9, 0, tzinfo=UTC), 4.0))
    run(_store(conn, project, probe, NOW - timedelta(days=91), 1.0))  # before the window
    rows = run(_series(conn, probe, 90))
    assert [(row.bucket, row.mos) for row in rows] == [
        (datetime(2026, 3, 8, 23, tzinfo=UTC), 4.0),
        (datetime(2026, 3, 9, 23, tzinfo=UTC), 3.5),
    ]
