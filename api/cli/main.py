"""The ``callprobe`` command line (typer): one app assembled from the command modules.

Commands are listed in ``--help`` in the order they are registered here; the groups
(``db``, ``project``, ``cluster``, ``user``) come after them.
"""

from __future__ import annotations

import logging
import sys

import typer
from pydantic import ValidationError

from api.cli import agent_command, calls, cluster, database, server, users
from api.cli.terminal import fail
from probes.sip.spec import EngineError
from store.errors import StoreError

app = typer.Typer(
    no_args_is_help=True, help="SIP/VoIP synthetic-call probing.", pretty_exceptions_enable=False
)
app.command()(server.serve)
app.command()(agent_command.agent)
app.command()(server.demo)
app.command()(calls.call)
app.command()(calls.reflector)
app.command(context_settings=calls.PASS_THROUGH)(calls.relay)
app.command()(calls.run)
server.db_app.command("migrate")(database.migrate)
app.add_typer(server.db_app, name="db")
app.add_typer(server.project_app, name="project")
app.add_typer(cluster.cluster_app, name="cluster")
app.add_typer(users.user_app, name="user")


def main() -> None:
    """Console-script entry point."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    try:
        app()
    except ValidationError as exc:
        fail(f"invalid CALLPROBE_ settings: {exc}")
    except (StoreError, EngineError) as exc:
        fail(f"{type(exc).__name__}: {exc}")
