"""Forward-only migrations: code older than the schema refuses it (migrate, the start
check, /readyz), and ``callprobe db migrate`` applies what is pending, in throwaway
databases (a fake future version would refuse every other test's work)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from store import migrate, pool
from store.errors import MigrationError
from tests.integration.scratch import scratch_database

pytestmark = pytest.mark.db

REPO = Path(__file__).resolve().parents[2]
NEWEST = max(migrate.shipped())
FUTURE = NEWEST + 2


def add_future_version(url: str) -> None:
    with pool.connect(url) as conn:
        conn.execute(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, 'future', 'x')",
            (FUTURE,),
        )


def cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CALLPROBE_DATABASE_URL": url, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "api", *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_a_newer_schema_is_refused_by_migrate_and_by_the_check(db) -> None:
    refusal = (
        f"database schema is at {FUTURE:04d} but this callprobe knows only up to {NEWEST:04d}:"
        " upgrade callprobe"
    )
    with scratch_database(db, "cp_guard") as url:
        add_future_version(url)
        with pytest.raises(MigrationError) as raised:
            migrate.migrate_database(url)
        assert str(raised.value) == refusal
        with pytest.raises(MigrationError, match="upgrade callprobe"):
            migrate.check_database(url)


def test_the_api_refuses_to_start_on_a_newer_schema_and_readyz_reports_one(db, tmp_path) -> None:
    with scratch_database(db, "cp_guard") as url:
        settings = Settings(database_url=url, data_dir=tmp_path, notify_dispatch=False)
        with TestClient(create_app(settings)) as client:
            assert client.get("/readyz").status_code == 200
            add_future_version(url)  # a newer replica migrated while this one runs
            response = client.get("/readyz")
        assert response.status_code == 503
        assert response.headers["retry-after"] == "5"
        assert response.json()["error"]["code"] == "schema_mismatch"
        assert "upgrade callprobe" in response.json()["error"]["message"]
        with (
            pytest.raises(MigrationError, match="upgrade callprobe"),
            TestClient(create_app(settings)),
        ):
            pass


def test_replicas_that_do_not_migrate_wait_for_db_migrate(db, tmp_path) -> None:
    with scratch_database(db, "cp_guard", migrated=False) as url:
        settings = Settings(
            database_url=url, data_dir=tmp_path, notify_dispatch=False, migrate_on_start=False
        )
        refused = pytest.raises(MigrationError, match="run `callprobe db migrate`")
        with refused, TestClient(create_app(settings)):
            pass
        first = cli(url, "db", "migrate")
        assert first.returncode == 0, first.stderr
        applied = [line for line in first.stdout.splitlines() if line.startswith("applied ")]
        assert applied[0] == "applied 0001_results"
        assert len(applied) == len(migrate.shipped())
        assert first.stdout.splitlines()[-1] == f"schema migrated to {NEWEST:04d}"
        with TestClient(create_app(settings)) as client:
            assert client.get("/readyz").json() == {"status": "ready"}
        again = cli(url, "db", "migrate")
        assert again.stdout.strip() == f"schema already at {NEWEST:04d}"
        add_future_version(url)
        refused = cli(url, "db", "migrate")
        assert refused.returncode == 2
        assert "upgrade callprobe" in refused.stderr
