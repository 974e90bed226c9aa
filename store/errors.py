"""The store's error tree; `http_status` is what the API edge answers with."""

from __future__ import annotations


class StoreError(Exception):
    """Base of every error the store raises on purpose."""

    http_status: int = 500
    code: str | None = None
    """The error body's ``code`` when the status's generic one is not precise enough."""


class DatabaseUnavailable(StoreError):
    """The database cannot be reached now (down, restarting, pool exhausted)."""

    http_status = 503


class StatementTimeout(DatabaseUnavailable):
    """A statement ran past the session's ``statement_timeout`` and was cancelled."""

    code = "statement_timeout"


class MigrationError(StoreError):
    """The schema cannot be brought to the version this code expects."""


class ClusterError(StoreError):
    """The embedded development/test cluster cannot be set up or controlled."""


class TimescaleDBNotInstalled(ClusterError):
    """PostgreSQL 15 lacks the timescaledb extension."""


class PortInUse(ClusterError):
    """Another process already listens on the cluster's port."""


class ClusterNotRunning(ClusterError):
    """The cluster is not initialised or not started."""

    http_status = 503


class NotFound(StoreError):
    """The row does not exist in the caller's project (another project's rows do not)."""

    http_status = 404


class Conflict(StoreError):
    """The change clashes with what is stored (a duplicate name, a revoked key's owner)."""

    http_status = 409


class QuotaExceeded(Conflict):
    """The project already has as many of something as its quota allows."""

    code = "quota_exceeded"
