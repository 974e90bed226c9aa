"""The backup and restore of docs/operations.md, small: bench/backup_restore.py on a
cluster of its own (pg_dump -Fc, timescaledb_pre_restore, pg_restore, post_restore)."""

from __future__ import annotations

import pytest

from bench.backup_restore import run

pytestmark = pytest.mark.db


def test_a_restored_dump_holds_the_same_rows_and_serves_the_same_page() -> None:
    outcome = run(probes=3, days=2, every_min=10)
    assert [label for label, _, _ in outcome.steps] == [
        "seed", "pg_dump", "create", "pre_restore", "pg_restore", "post_restore", "analyze",
    ]  # fmt: skip
    assert outcome.same_rows
    assert outcome.same_page
    assert 0 < outcome.dump_bytes < outcome.database_bytes
