"""The commands that place or answer calls here: ``call``, ``reflector``, ``relay``, ``run``.

The call stack (pjsua2, NumPy, SciPy: about 120 MiB) is imported inside these commands,
so ``callprobe serve`` and the other commands stay small.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from pathlib import Path
from typing import Annotated, Any

import typer

from api.cli.terminal import console, err_console, fail
from api.settings import get_settings
from probes.sip.spec import Registration

PASS_THROUGH: dict[str, Any] = {"allow_extra_args": True, "ignore_unknown_options": True}
"""Click settings for ``relay``, whose flags belong to the relay's own parser."""


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
            fail("--register needs --username and --password (or CALLPROBE_SIP_PASSWORD)")
        registration = Registration(registrar=register, username=username, password=password)
    request = CallRequest(
        target=uri, codec=codec, transport=transport, talk_s=duration,
        setup_timeout_s=setup_timeout, reference=reference, registration=registration,
        probe=probe, max_redirects=follow_redirects,
    )  # fmt: skip
    try:
        result, note = asyncio.run(calls.call_once(get_settings(), request, store=store))
    except InvalidCallRequest as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        console.print(calls.render(result))
    if note:
        err_console.print(note)
    raise typer.Exit(0 if result.outcome.value == "ok" else 1)


def reflector(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="SIP port (UDP and TCP)")] = 5080,
    rtp_port: Annotated[int, typer.Option(help="First RTP port")] = 30000,
    prompt: Annotated[Path | None, typer.Option(help="Play this file instead of echoing")] = None,
) -> None:
    """Answer calls and echo their audio (or play a prompt) until interrupted."""
    from api.cli import local_calls as calls  # noqa: PLC0415

    calls.run_reflector(host, port, rtp_port, prompt)


def relay(ctx: typer.Context) -> None:
    """Run the impairment relay; flags as `python -m peers.impairment --help`."""
    from api.cli import local_calls as calls  # noqa: PLC0415

    calls.run_relay(list(ctx.args))


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
