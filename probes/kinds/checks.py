"""One entry point for every probe kind: :func:`run_check` turns a spec into a result.

Checks never raise for a bad target or a misbehaving peer: every failure becomes
a :class:`CallResult` whose ``outcome`` and ``error`` say what happened.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import socket
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from probes.call_probe import CallRequest, InvalidCallRequest, invalid_result, run_call
from probes.kinds.http_check import check_http
from probes.kinds.icmp_check import check_icmp
from probes.kinds.options import (
    HttpOptions,
    IcmpOptions,
    ProbeOptions,
    SipCallOptions,
    SipOptionsOptions,
    SipRegisterOptions,
    TcpOptions,
)
from probes.kinds.sip_options import check_options
from probes.kinds.sip_register import check_register
from probes.kinds.sip_wire import MalformedResponse, PeerClosed
from probes.kinds.tcp_check import InvalidTarget, check_tcp, parse_hostport
from probes.result import CallResult, Outcome
from probes.sip.engine import CallEngine
from probes.sip.spec import Registration
from probes.sip.uri import InvalidSipUri, parse_sip_uri

log = logging.getLogger(__name__)

CALL_MARGIN_S = 30.0
"""Beyond setup and talk time, what a call may take to hang up, finalize and score."""


@dataclass(frozen=True, kw_only=True, slots=True)
class CheckSpec:
    """One run to execute: which probe, against what, within how long."""

    run_id: uuid.UUID
    probe_id: uuid.UUID | None
    probe_name: str
    kind: str
    target: str
    timeout_s: float
    options: ProbeOptions
    secret: str | None = field(default=None, repr=False)
    location: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CallRuntime:
    """What ``sip_call`` needs: the pjsua2 engine and the scoring pool."""

    engine: CallEngine
    scorer: concurrent.futures.Executor


async def run_check(spec: CheckSpec, runtime: CallRuntime | None = None) -> CallResult:
    """Run one check of any kind; never raises for a bad target or peer.

    ``timeout_s`` bounds the whole check (TIMEOUT when exceeded), except for
    ``sip_call``, where it is the setup timeout and talk time comes on top.
    """
    base = CallResult(
        run_id=spec.run_id,
        probe=spec.probe_name,
        target=spec.target,
        started_at=datetime.now(UTC),
        outcome=Outcome.OK,
        kind=spec.kind,
        probe_id=spec.probe_id,
        location=spec.location,
        transport=_transport(spec.options),
    )
    limit = spec.timeout_s
    if isinstance(spec.options, SipCallOptions):
        limit += spec.options.talk_s + CALL_MARGIN_S
    try:
        async with asyncio.timeout(limit):
            return await _dispatch(spec, runtime, base)
    except TimeoutError:
        return replace(base, outcome=Outcome.TIMEOUT, error=f"no answer within {limit:g} s")
    except socket.gaierror as exc:
        return replace(base, outcome=Outcome.INVALID_INPUT, error=f"cannot resolve host: {exc}")
    except MalformedResponse as exc:
        return replace(base, outcome=Outcome.FAILED, error=f"malformed SIP response: {exc}")
    except ConnectionRefusedError:
        return replace(base, outcome=Outcome.FAILED, error=_refused(base.transport))
    except (OSError, PeerClosed) as exc:
        return replace(base, outcome=Outcome.FAILED, error=f"network error: {exc}")
    except Exception as exc:  # a bug must not stop the agent: report it as our failure
        log.exception("check crashed", extra={"kind": spec.kind, "run_id": str(spec.run_id)})
        error = f"check crashed: {type(exc).__name__}: {exc}"
        return replace(base, outcome=Outcome.ENGINE_ERROR, error=error)


async def _dispatch(spec: CheckSpec, runtime: CallRuntime | None, base: CallResult) -> CallResult:
    options = spec.options
    try:
        match options:
            case SipOptionsOptions():
                uri = parse_sip_uri(spec.target, options.transport)
                return await check_options(uri, options, base)
            case SipRegisterOptions():
                uri = parse_sip_uri(spec.target, options.transport)
                return await check_register(uri, options, spec.secret, base)
            case HttpOptions():
                return await check_http(spec.target, options, spec.timeout_s, base)
            case TcpOptions():
                host, port = parse_hostport(spec.target)
                return await check_tcp(host, port, base)
            case IcmpOptions():
                return await check_icmp(spec.target.strip(), options, spec.timeout_s, base)
            case SipCallOptions():
                return await _call(spec, options, runtime, base)
            case _:
                error = "push probes are reported by the application, not run by agents"
                return replace(base, outcome=Outcome.INVALID_INPUT, error=error)
    except (InvalidSipUri, InvalidTarget) as exc:
        return replace(base, outcome=Outcome.INVALID_INPUT, error=str(exc))


async def _call(
    spec: CheckSpec, options: SipCallOptions, runtime: CallRuntime | None, base: CallResult
) -> CallResult:
    registration = None
    if options.registrar and options.username:
        registration = Registration(
            registrar=options.registrar,
            username=options.username,
            password=spec.secret or "",
            realm=options.realm,
        )
    request = CallRequest(
        target=spec.target,
        codec=options.codec,
        transport=options.transport,
        talk_s=options.talk_s,
        setup_timeout_s=spec.timeout_s,
        registration=registration,
        probe=spec.probe_name,
        max_redirects=options.follow_redirects,
    )
    if runtime is None:
        return replace(base, outcome=Outcome.ENGINE_ERROR, error="this agent has no call engine")
    try:
        result = await run_call(runtime.engine, runtime.scorer, request)
    except InvalidCallRequest as exc:
        result = invalid_result(request, str(exc))
    return replace(
        result,
        run_id=base.run_id,
        started_at=base.started_at,
        kind=base.kind,
        probe_id=base.probe_id,
        location=base.location,
    )


def _transport(options: ProbeOptions) -> str:
    if isinstance(options, SipOptionsOptions | SipRegisterOptions):
        return options.transport
    if isinstance(options, SipCallOptions):
        return options.transport or "udp"
    return "icmp" if isinstance(options, IcmpOptions) else "tcp"


def _refused(transport: str) -> str:
    if transport == "udp":
        return "port unreachable: nothing listens on that UDP port (ICMP refused)"
    return "connection refused: nothing listens on that port"
