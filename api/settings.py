"""Process settings (pydantic-settings, ``CALLPROBE_`` prefix): one instance per process."""

from __future__ import annotations

from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from api.middleware.ratelimit import parse_rate
from store import cluster

REPO_ROOT = Path(__file__).resolve().parent.parent
MIN_ADMIN_TOKEN = 24
MIB = 1024 * 1024
SECRETS_DIR = Path("/run/secrets")
"""Container secrets (compose, Kubernetes): a file named like the variable, e.g.
``/run/secrets/callprobe_admin_token``, sets that setting; the environment wins over it.
Read only when the directory exists (pydantic-settings warns about a missing one)."""


class Settings(BaseSettings):
    """Everything configurable from the environment.

    ``database_url`` unset means "use the embedded cluster under ``data_dir``".
    """

    model_config = SettingsConfigDict(
        env_prefix="CALLPROBE_",
        env_file=None,
        secrets_dir=SECRETS_DIR if SECRETS_DIR.is_dir() else None,
    )

    database_url: str | None = None
    data_dir: Path = Field(default=REPO_ROOT / ".var")
    db_port: int = Field(default=25432, ge=1024, le=65535)
    sip_bind: str = "127.0.0.1"
    sip_port_base: int = Field(default=5160, ge=1024, le=65000)
    rtp_port_base: int = Field(default=40000, ge=1024, le=60000)
    engine_processes: int = Field(default=1, ge=1, le=64)
    wideband_processes: int = Field(default=1, ge=0, le=64)
    scoring_processes: int = Field(default=1, ge=1, le=32)
    setup_rate: float = Field(default=50.0, gt=0, le=1000)
    # Bearer token for admin routes (POST /v1/projects); unset disables them.
    admin_token: SecretStr | None = None

    @field_validator("admin_token")
    @classmethod
    def _strong_admin_token(cls, value: SecretStr | None) -> SecretStr | None:
        """Refuse a guessable admin token rather than serve admin routes behind it."""
        if value is None:
            return None
        token = value.get_secret_value()
        if len(token) < MIN_ADMIN_TOKEN or len(set(token)) < MIN_ADMIN_TOKEN // 3:
            raise ValueError(
                f"CALLPROBE_ADMIN_TOKEN must be at least {MIN_ADMIN_TOKEN} varied characters,"
                " e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return value

    # Fernet key encrypting probe secrets; unset: generated in data_dir/secret.key.
    secret_key: SecretStr | None = None
    # Seconds past a run's timeout before its lease is handed to another agent.
    lease_grace_s: float = Field(default=30.0, ge=1, le=3600)
    # How soon an agent that got no runs should ask again.
    agent_poll_s: float = Field(default=1.0, gt=0, le=60)
    # Reports accepted per push token and API process (the limits library's notation).
    push_rate: str = "60/minute"
    # How often each API process re-judges every probe (silence -> unknown/dead).
    sweep_interval_s: float = Field(default=15.0, ge=1, le=3600)
    # Whether this process judges health (the judging loop and the silence sweep); off:
    # a process that only answers requests, such as one that serves the public pages
    # apart from ingest (``callprobe cluster up --pages``), with judging left to others.
    judging: bool = True
    # Clock difference tolerated between agents and the API: a result's started_at
    # must lie in [leased_at - skew, now + skew].
    result_clock_skew_s: float = Field(default=60.0, ge=0, le=3600)

    # Per-project quotas (a create past one answers 409 quota_exceeded) and the
    # longest statement an API database session may run.
    max_probes_per_project: int = Field(default=1000, ge=1)
    max_pages_per_project: int = Field(default=50, ge=1)
    max_components_per_page: int = Field(default=200, ge=1)
    max_agents_per_project: int = Field(default=100, ge=1)
    max_channels_per_project: int = Field(default=50, ge=1)
    statement_timeout_ms: int = Field(default=15000, ge=100)
    # Days a deleted or renamed page's slug stays reserved to its project.
    slug_reservation_days: int = Field(default=30, ge=0, le=3650)

    # Public status pages: where they are published (for links in API responses),
    # how long a rendering is reused (0: never; capped by each page's refresh
    # interval) and how many uncached public requests one client may make.
    public_url: str = "http://127.0.0.1:8080"
    page_cache_s: float = Field(default=10.0, ge=0, le=3600)
    public_rate: str = "50/second"
    # DNS server (host:port) for custom-domain TXT checks; unset: the system's.
    dns_server: str | None = Field(default=None, pattern=r"^[^:\s]+:\d{1,5}$")

    # The HTTP edge: bodies larger than these get 413 before they are read (agent
    # result batches have their own limit), failed authentications allowed per
    # client, and the proxies (CIDRs, comma-separated) whose X-Forwarded-For is
    # believed when telling clients apart.
    max_body_bytes: int = Field(default=MIB, ge=1024)
    max_results_body_bytes: int = Field(default=16 * MIB, ge=1024)
    auth_fail_rate: str = "20/minute"
    trusted_proxies: Annotated[list[IPv4Network | IPv6Network], NoDecode] = []

    # Notifications: networks (CIDRs, comma-separated) that webhook and SMTP targets may
    # reach although they are not public (loopback, private, link-local, metadata, ...),
    # and the longest one delivery attempt may take, connection and answer included.
    notify_allow_networks: Annotated[list[IPv4Network | IPv6Network], NoDecode] = []
    notify_timeout_s: float = Field(default=10.0, gt=0, le=120)
    # Retries: attempt n waits between half and all of base * 2**(n-1) (at most cap) or
    # the receiver's Retry-After; after max attempts a notice is dead (redeliverable).
    notify_backoff_base_s: float = Field(default=5.0, gt=0, le=3600)
    notify_backoff_cap_s: float = Field(default=1800.0, gt=0, le=86400)
    notify_max_attempts: int = Field(default=12, ge=1, le=100)
    # Whether this process routes and sends notifications (off: an API-only replica, with
    # the dispatch left to others), how often an idle one looks for notices, and how
    # many it sends at once.
    notify_dispatch: bool = True
    notify_poll_s: float = Field(default=0.5, gt=0, le=60)
    notify_concurrency: int = Field(default=32, ge=1, le=1000)

    # The operator console: a session ends after this long idle, or this long after
    # sign-in whatever happens; an account locks for lock minutes after this many wrong
    # passwords in a row; sign-in attempts per client address and API process.
    console_idle_minutes: float = Field(default=60.0, gt=0, le=10080)
    console_session_hours: float = Field(default=12.0, gt=0, le=720)
    console_login_failures: int = Field(default=10, ge=3, le=100)
    console_lock_minutes: float = Field(default=15.0, gt=0, le=1440)
    console_login_rate: str = "30/minute"

    # Operations (docs/operations.md): migrate at start (off: only check the schema, for
    # deployments running `callprobe db migrate` as a job); the retention pass's interval
    # and, on TimescaleDB's full edition, the age after which raw chunks are compressed;
    # on SIGTERM, seconds /readyz says 503 while still serving, then the longest wait
    # for in-flight requests; log lines as text or JSON (one object a line).
    migrate_on_start: bool = True
    retention_interval_s: float = Field(default=3600.0, ge=10, le=86400)
    compress_after_days: int = Field(default=7, ge=1, le=3650)
    shutdown_delay_s: float = Field(default=0.0, ge=0, le=300)
    shutdown_grace_s: float = Field(default=20.0, ge=0, le=3600)
    log_format: Literal["text", "json"] = "text"

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        """Links are built as ``public_url + "/s/…"``."""
        return value.rstrip("/")

    @field_validator("push_rate", "public_rate", "auth_fail_rate", "console_login_rate")
    @classmethod
    def _valid_rate(cls, value: str) -> str:
        parse_rate(value)
        return value

    @field_validator("trusted_proxies", "notify_allow_networks", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def spool_dir(self) -> Path:
        """Where results wait while the database is away."""
        return self.data_dir / "spool"

    @property
    def resolved_database_url(self) -> str:
        """The database everything uses: ``database_url``, else the running embedded
        cluster's URL (``ClusterNotRunning`` when it does not run)."""
        return self.database_url or cluster.url(self.pg_root)

    @property
    def pg_root(self) -> Path:
        """Root of the embedded cluster: under ``data_dir`` when the postgres user can
        reach it (initdb refuses root), else under /var/lib/callprobe."""
        return cluster.reachable_root(self.data_dir, "pg")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
