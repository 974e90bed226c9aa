"""The platform's server-side commands: ``serve``, ``demo``, ``db`` and ``project``."""

from __future__ import annotations

import asyncio
from enum import StrEnum
from typing import Annotated, Any

import typer
import uvicorn
from uvicorn.config import STARTUP_FAILURE

from api.app import create_app
from api.cli.demo import Ports
from api.cli.demo import run as demo_run
from api.cli.draining import DrainingServer
from api.cli.terminal import console, err_console
from api.middleware.access_log import log_config
from api.routes.projects import create_project_with_key
from api.settings import get_settings
from api.state import of
from store import cluster
from store.migrate import migrate_database
from store.pool import transaction

db_app = typer.Typer(no_args_is_help=True, help="The embedded PostgreSQL + TimescaleDB cluster.")
project_app = typer.Typer(no_args_is_help=True, help="Projects (tenants) and their keys.")


@db_app.command("start")
def db_start() -> None:
    """Start (initialising if needed) the project-local cluster and migrate it."""
    settings = get_settings()
    url = cluster.start(settings.pg_root, settings.db_port)
    migrate_database(url)
    console.print(url)


@db_app.command("stop")
def db_stop() -> None:
    """Stop the project-local cluster."""
    cluster.stop(get_settings().pg_root)


@db_app.command("status")
def db_status() -> None:
    """Say whether the project-local cluster runs, and where."""
    console.print(cluster.status(get_settings().pg_root))


@db_app.command("url")
def db_url() -> None:
    """Print the database URL everything uses (CALLPROBE_DATABASE_URL wins)."""
    settings = get_settings()
    console.print(settings.resolved_database_url, soft_wrap=True)


class LogLevel(StrEnum):
    """Log levels ``callprobe serve`` accepts (uvicorn's names)."""

    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8080,
    workers: Annotated[
        int, typer.Option(help="Server processes (each leases, ingests and judges)", min=1)
    ] = 1,
    log_level: Annotated[
        LogLevel, typer.Option(help="Server log level (warning: no access log)")
    ] = LogLevel.INFO,
) -> None:
    """Serve the HTTP API (starting the embedded cluster when no database URL is set)."""
    settings = get_settings()
    if not settings.database_url:
        cluster.start(settings.pg_root, settings.db_port)
    # Push tokens are redacted from the access log; client addresses come from
    # CALLPROBE_TRUSTED_PROXIES alone, not from uvicorn's own X-Forwarded-For handling.
    edge: dict[str, Any] = {
        "log_config": log_config(settings.log_format, log_level.value),
        "log_level": log_level.value,
        "proxy_headers": False,
        "timeout_graceful_shutdown": settings.shutdown_grace_s,
    }
    if workers == 1:
        app = create_app(settings)
        config = uvicorn.Config(app, host=host, port=port, **edge)
        server = DrainingServer(config, of(app), settings.shutdown_delay_s)
        server.run()
        if not server.started:
            raise typer.Exit(STARTUP_FAILURE)
    else:
        # Worker processes build their own app from the same environment (and drain
        # without the readiness delay: uvicorn's supervisor handles their signals).
        uvicorn.run(
            "api.app:create_app", factory=True, host=host, port=port, workers=workers, **edge
        )


def demo(
    port: Annotated[int, typer.Option(help="API port")] = 8080,
    sip_port: Annotated[
        int, typer.Option(help="Reflector's SIP port (the relay takes +10, the failing trunk +19)")
    ] = 5080,
    rtp_port: Annotated[
        int, typer.Option(help="First of 400 RTP ports (relay, reflector)")
    ] = 46000,
    verbose: Annotated[bool, typer.Option(help="Show the API's access log and all output")] = False,
) -> None:
    """The whole platform locally: database, reflector, relay, API, agent and a demo project."""
    demo_run(get_settings(), Ports(api=port, sip=sip_port, rtp=rtp_port), verbose=verbose)


@project_app.command("create")
def project_create(name: Annotated[str, typer.Argument(help="Project name")]) -> None:
    """Create a project with a write key, printed once (first-time setup, no admin token)."""
    settings = get_settings()
    url = settings.database_url or cluster.start(settings.pg_root, settings.db_port)
    migrate_database(url)
    project_id, token = asyncio.run(_create_project(url, name))
    err_console.print(f"project {project_id} created; its write key (shown once):")
    print(token)


async def _create_project(url: str, name: str) -> tuple[str, str]:
    async with transaction(url) as conn:
        project, _, token = await create_project_with_key(conn, name)
    return str(project.id), token
