"""``callprobe agent``: its options and where its token comes from (never argv).

The runner it starts (``api.cli.agent``) and the agent loop are imported inside the
command, so the other commands do not load the call stack.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer

from api.cli.terminal import err_console, fail
from api.logs import configure as configure_logging
from api.settings import get_settings

AGENT_TOKEN_ENV = "CALLPROBE_AGENT_TOKEN"  # noqa: S105 - a variable's name, not a token
_TOKEN_SOURCES = f"set ${AGENT_TOKEN_ENV} or pass --token-file PATH"


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
    drain_timeout: Annotated[
        float,
        typer.Option(
            help="On SIGTERM, seconds running calls may take before they are handed back", min=0
        ),
    ] = 30.0,
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
        fail(f"--token is refused: the command line shows in ps; {_TOKEN_SOURCES}")
    try:
        check_api_url(api, allow_insecure_http=allow_insecure_http)
    except InsecureApiUrl as exc:
        fail(str(exc))
    settings = get_settings()
    configure_logging(settings.log_format)
    config = AgentConfig(
        api=api,
        token=_agent_token(token_file),
        location=location,
        spool_dir=spool or default_spool(settings, location),
        concurrency=concurrency,
        idle_poll_s=settings.agent_poll_s,
        allow_insecure_http=allow_insecure_http,
        drain_timeout_s=drain_timeout,
    )
    try:
        stats = asyncio.run(run_agent(settings, config, with_calls=calls))
    except AgentRejected as exc:
        fail(str(exc))
    err_console.print(f"agent stopped: {stats}")


def _agent_token(path: Path | None) -> str:
    """The agent token held in ``path`` (surrounding whitespace dropped), else the environment's."""
    if path is not None:
        try:
            token = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            fail(f"cannot read the token file: {exc}")
    else:
        token = os.environ.get(AGENT_TOKEN_ENV, "").strip()
    if not token:
        fail(f"no agent token: {_TOKEN_SOURCES}")
    return token
