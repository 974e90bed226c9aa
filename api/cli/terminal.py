"""The terminal the commands print to, and how a command stops on an error."""

from __future__ import annotations

from typing import NoReturn

from rich.console import Console

console = Console()
err_console = Console(stderr=True)


def fail(message: str) -> NoReturn:
    """Print ``message`` as an error and exit with status 2 (a usage or setup error)."""
    err_console.print(f"[red]error:[/red] {message}")
    raise SystemExit(2)
