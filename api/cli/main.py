"""The ``callprobe`` command line (typer): the composition root for local use.

The call stack (pjsua2, NumPy, SciPy: about 120 MiB) is imported inside the commands
that place or answer calls, so ``callprobe serve`` and the other commands stay small.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console

from api.app import create_app
from api.cli.demo import Ports
from api.cli.demo import run as demo_run
from api.middleware.access_log import log_config
from api.routes.projects import create_project_with_key
from api.settings import get_settings
from probes.sip.spec import EngineError, Registration
from store import cluster
from store.errors import StoreError
from store.migrate import migrate
from store.pool import connect, transaction

app = typer.Typer(
    no_args_is_help=True, help="SIP/VoIP synthetic-call probing.", pretty_exceptions_enable=False
)
db_app = typer.Typer(no_args_is_help=True, help="The embedded PostgreSQL + TimescaleDB cluster.")
app.add_typer(db_app, name="db")
project_app = typer.Typer(no_args_is_help=True, help="Projects (tenants) and their keys.")
app.add_typer(project_app, name="project")
console = Console()
err_console = Console(stderr=True)


@db_app.command("start")
def db_start() -> None:
    """Start (initialising if needed) the project-local cluster and migrate it."""
    settings = get_settings()
    url = cluster.start(settings.pg_root, settings.db_port)
    _migrate(url)
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
    console.print(settings.database_url or cluster.url(settings.pg_root), soft_wrap=True)


class LogLevel(StrEnum):
    """Log levels ``callprobe serve`` accepts (uvicorn's names)."""

    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@app.command()
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
    edge: dict[str, Any] = {"log_config": log_config(), "proxy_headers": False}
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level.value, **edge)
    else:
        # Worker processes build their own app from the same environment.
        uvicorn.run(
            "api.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level.value,
            **edge,
        )


AGENT_TOKEN_ENV = "CALLPROBE_AGENT_TOKEN"  # noqa: S105 - a variable's name, not a token
_TOKEN_SOURCES = f"set ${AGENT_TOKEN_ENV} or pass --token-file PATH"


@app.command()
def agent(
    api: Annotated[str, typer.Option(help="API base URL, e.g. https://probes.example.net")],
    location: Annotated[str, typer.Option(help="The location this agent's token serves")],
    token_file: Annotated[
        Path | None,
        typer.Option(help=f"File holding the agent token (else ${AGENT_TOKEN_ENV})"),
    ] = None,
    allow_insecure_http: Annotated[
        bool, typer.Option(help="Allow an http:// API URL that is not on loopback")
    ] = False,
    concurrency: Annotated[int, typer.Option(help="Runs at once", min=1, max=512)] = 16,
    calls: Annotated[bool, typer.Option(help="Start the call engine for sip_call probes")] = True,
    spool: Annotated[Path | None, typer.Option(help="Spool directory")] = None,
    token: Annotated[str | None, typer.Option(hidden=True)] = None,
) -> None:
    """Lease due runs from the API, run them here, post results (spooled while it is away).

    The token comes from $CALLPROBE_AGENT_TOKEN or --token-file, never argv (ps shows it).
    """
    from api.cli.agent import default_spool, run_agent  # noqa: PLC0415
    from probes.agent import (  # noqa: PLC0415
        AgentConfig,
        AgentRejected,
        InsecureApiUrl,
        check_api_url,
    )

    if token is not None:
        _fail(f"--token is refused: the command line shows in ps; {_TOKEN_SOURCES}")
    try:
        check_api_url(api, allow_insecure_http=allow_insecure_http)
    except InsecureApiUrl as exc:
        _fail(str(exc))
    settings = get_settings()
    config = AgentConfig(
        api=api,
        token=_agent_token(token_file),
        location=location,
        spool_dir=spool or default_spool(settings, location),
        concurrency=concurrency,
        idle_poll_s=settings.agent_poll_s,
        allow_insecure_http=allow_insecure_http,
    )
    try:
        stats = asyncio.run(run_agent(settings, config, with_calls=calls))
    except AgentRejected as exc:
        _fail(str(exc))
    err_console.print(f"agent stopped: {stats}")


def _agent_token(path: Path | None) -> str:
    """The agent token held in ``path`` (surrounding whitespace dropped), else the environment's."""
    if path is not None:
        try:
            token = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            _fail(f"cannot read the token file: {exc}")
    else:
        token = os.environ.get(AGENT_TOKEN_ENV, "").strip()
    if not token:
        _fail(f"no agent token: {_TOKEN_SOURCES}")
    return token


@app.command()
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
    _migrate(url)
    project_id, token = asyncio.run(_create_project(url, name))
    err_console.print(f"project {project_id} created; its write key (shown once):")
    print(token)


@app.command()
def call(
    uri: Annotated[str, typer.Argument(help="SIP URI to call, e.g. sip:echo@127.0.0.1:5080")],
    codec: Annotated[str, typer.Option(help="PCMU, PCMA or G722 (also GSM, iLBC, speex)")] = "PCMU",
    duration: Annotated[float, typer.Option(help="Talk time in seconds")] = 10.0,
    setup_timeout: Annotated[float, typer.Option(help="Seconds to wait for an answer")] = 10.0,
    transport: Annotated[str | None, typer.Option(help="udp or tcp (default: URI's)")] = None,
    reference: Annotated[Path | None, typer.Option(help="Audio file to play")] = None,
    register: Annotated[str | None, typer.Option(help="Registrar URI to REGISTER at")] = None,
    username: Annotated[str | None, typer.Option(help="Digest user name")] = None,
    password: Annotated[
        str | None, typer.Option(envvar="CALLPROBE_SIP_PASSWORD", help="Digest password")
    ] = None,
    probe: Annotated[str, typer.Option(help="Probe name stored with the result")] = "adhoc",
    follow_redirects: Annotated[
        int, typer.Option(help="3xx hops to follow (0: report the redirect)")
    ] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    store: Annotated[bool, typer.Option(help="Store when a database is configured")] = True,
) -> None:
    """Place one test call, print its measurements and store them."""
    from api.cli import local_calls as calls  # noqa: PLC0415
    from probes.call_probe import CallRequest, InvalidCallRequest  # noqa: PLC0415

    registration = None
    if register:
        if not username or password is None:
            _fail("--register needs --username and --password (or CALLPROBE_SIP_PASSWORD)")
        registration = Registration(registrar=register, username=username, password=password)
    request = CallRequest(
        target=uri, codec=codec, transport=transport, talk_s=duration,
        setup_timeout_s=setup_timeout, reference=reference, registration=registration,
        probe=probe, max_redirects=follow_redirects,
    )  # fmt: skip
    try:
        result, note = asyncio.run(calls.call_once(get_settings(), request, store=store))
    except InvalidCallRequest as exc:
        _fail(str(exc))
    if as_json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        console.print(calls.render(result))
    if note:
        err_console.print(note)
    raise typer.Exit(0 if result.outcome.value == "ok" else 1)


@app.command()
def reflector(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="SIP port (UDP and TCP)")] = 5080,
    rtp_port: Annotated[int, typer.Option(help="First RTP port")] = 30000,
    prompt: Annotated[Path | None, typer.Option(help="Play this file instead of echoing")] = None,
) -> None:
    """Answer calls and echo their audio (or play a prompt) until interrupted."""
    from api.cli import local_calls as calls  # noqa: PLC0415

    calls.run_reflector(host, port, rtp_port, prompt)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def relay(ctx: typer.Context) -> None:
    """Run the impairment relay; flags as `python -m probes.impairment --help`."""
    from api.cli import local_calls as calls  # noqa: PLC0415

    calls.run_relay(list(ctx.args))


@app.command()
def run(
    target: Annotated[str | None, typer.Option(help="SIP URI (default: a local reflector)")] = None,
    interval: Annotated[float, typer.Option(help="Seconds between calls")] = 60.0,
    duration: Annotated[float, typer.Option(help="Talk time in seconds")] = 10.0,
    codec: Annotated[str, typer.Option(help="Codec")] = "PCMU",
    count: Annotated[int, typer.Option(help="Stop after this many calls (0 = forever)")] = 0,
) -> None:
    """The local platform: database, reflector and a scheduled call probe, stored."""
    from api.cli import local_calls as calls  # noqa: PLC0415
    from probes.call_probe import CallRequest  # noqa: PLC0415

    template = CallRequest(target="", codec=codec, talk_s=duration, probe="local-reflector")
    # SIGTERM stops the run like Ctrl-C: the reflector and engine are shut down.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(calls.run_schedule(get_settings(), target, template, interval, count))


async def _create_project(url: str, name: str) -> tuple[str, str]:
    async with transaction(url) as conn:
        project, _, token = await create_project_with_key(conn, name)
    return str(project.id), token


def _migrate(url: str) -> None:
    with connect(url) as conn:
        migrate(conn)


def _fail(message: str) -> NoReturn:
    err_console.print(f"[red]error:[/red] {message}")
    raise SystemExit(2)


def main() -> None:
    """Console-script entry point."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    try:
        app()
    except ValidationError as exc:
        _fail(f"invalid CALLPROBE_ settings: {exc}")
    except (StoreError, EngineError) as exc:
        _fail(f"{type(exc).__name__}: {exc}")
