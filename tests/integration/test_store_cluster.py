from __future__ import annotations

import shutil
import socket

import pytest

from store import cluster
from store.errors import ClusterError, ClusterNotRunning, PortInUse

pytestmark = pytest.mark.db


def test_status_of_the_running_cluster(db) -> None:
    status = cluster.status(db.root)
    assert status.initialized and status.running
    assert status.port == db.port
    assert status.pid is not None


def test_url_points_at_loopback_with_the_callprobe_role(db) -> None:
    url = cluster.url(db.root)
    assert url.startswith("postgresql://callprobe:")
    assert url.endswith(f"@127.0.0.1:{db.port}/callprobe")


def test_password_file_is_private(db) -> None:
    assert (db.root / "password").stat().st_mode & 0o777 == 0o600


def test_start_is_idempotent(db) -> None:
    assert cluster.start(db.root, db.port) == db.url


def test_start_on_another_port_is_refused_while_running(db) -> None:
    with pytest.raises(ClusterError, match="already runs on port"):
        cluster.start(db.root, db.port + 100)


def test_a_busy_port_is_reported_before_anything_is_created() -> None:
    root = cluster.default_root("pg-busy-port-test")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        try:
            with pytest.raises(PortInUse):
                cluster.start(root, taken.getsockname()[1])
            assert not cluster.status(root).initialized
        finally:
            shutil.rmtree(root)


def test_a_root_never_initialised_is_reported_as_such(tmp_path) -> None:
    status = cluster.status(tmp_path)
    assert not status.initialized and not status.running
    with pytest.raises(ClusterNotRunning):
        cluster.url(tmp_path)
