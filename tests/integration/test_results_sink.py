"""A database that goes away: results are spooled, then replayed exactly once."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from api.services.local_results import SinkReport, drain_spool, store_or_spool
from probes.result import CallResult, Outcome
from probes.spool import Spool
from store import cluster, pool

pytestmark = pytest.mark.db


def _batch(count: int) -> list[CallResult]:
    t0 = datetime.now(UTC)
    return [
        CallResult(
            probe="outage",
            target="sip:echo@192.0.2.1",
            outcome=Outcome.OK,
            started_at=t0 + timedelta(milliseconds=i),
            pesq_mos=4.1,
        )
        for i in range(count)
    ]


def _copies_stored(url: str, results: list[CallResult]) -> dict[str, int]:
    with pool.connect(url) as conn:
        rows = conn.execute(
            "SELECT run_id::text, count(*) FROM call_results WHERE run_id = ANY(%s) GROUP BY 1",
            ([r.run_id for r in results],),
        ).fetchall()
    return dict(rows)


def _drain_once_back(run, source, spool: Spool) -> SinkReport:
    """Retry the drain as the agent does: a pool reconnects with backoff after a restart."""
    deadline = time.monotonic() + 30
    while True:
        drained = run(drain_spool(source, spool, batch=7))
        if drained.spooled == 0 or time.monotonic() > deadline:
            return drained
        time.sleep(0.5)


@pytest.mark.parametrize("through", ["url", "pool"])
def test_results_survive_a_database_outage(outage_cluster, run, tmp_path, through) -> None:
    spool = Spool(tmp_path / "spool")
    source = (
        outage_cluster.url if through == "url" else pool.create_pool(outage_cluster.url, timeout=1)
    )
    if not isinstance(source, str):
        run(source.open(wait=True))
    before, during = _batch(20), _batch(30)
    try:
        assert run(store_or_spool(source, before, spool)).stored == 20

        cluster.stop(outage_cluster.root)
        report = run(store_or_spool(source, during, spool))
        assert (report.stored, report.spooled) == (0, 30)
        assert report.error
        assert len(Spool(tmp_path / "spool").pending()) == 30

        cluster.start(outage_cluster.root, outage_cluster.port)
        drained = _drain_once_back(run, source, spool)
        assert drained.spooled == 0, drained
        assert spool.pending() == []
        assert run(drain_spool(source, spool)).received == 0
    finally:
        if not isinstance(source, str):
            run(source.close())
    copies = _copies_stored(outage_cluster.url, before + during)
    assert len(copies) == 50
    assert set(copies.values()) == {1}


def test_a_replay_after_a_lost_acknowledgement_stores_nothing_twice(
    outage_cluster, run, tmp_path
) -> None:
    spool = Spool(tmp_path / "spool")
    results = _batch(5)
    run(store_or_spool(outage_cluster.url, results, spool))
    spool.spool_all(results)  # as if the ack after a commit had been lost in a crash
    drained = run(drain_spool(outage_cluster.url, spool))
    assert (drained.received, drained.stored, drained.spooled) == (5, 0, 0)
    assert set(_copies_stored(outage_cluster.url, results).values()) == {1}
