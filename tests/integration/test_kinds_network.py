"""HTTP, TCP, ICMP and SIP-transport checks against real sockets on loopback.

The peers here are a few lines of asyncio each: an HTTP responder, a UDP port
that never answers, one that answers garbage, a TCP listener that hangs up.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from probes.kinds.checks import CheckSpec, run_check
from probes.kinds.icmp_check import NO_RAW_SOCKETS
from probes.result import CallResult, Outcome
from tests.check_spec import check_spec
from tests.conftest import Run

BODY = b"<html>callprobe: all systems operational</html>"


def check(kind: str, target: str, timeout_s: float = 2.0, **options: Any) -> CheckSpec:
    return check_spec(kind, target, timeout_s=timeout_s, name="net", **options)


def timed(run: Run[Any], spec: CheckSpec) -> tuple[CallResult, float]:
    started = time.monotonic()
    result: CallResult = run(run_check(spec))
    return result, time.monotonic() - started


async def _http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    request = await reader.readuntil(b"\r\n\r\n")
    path = request.split(b" ")[1]
    if path == b"/silent":  # until the client gives up
        await reader.read()
        writer.close()
        return
    status, body = {
        b"/ok": (b"200 OK", BODY),
        b"/error": (b"500 Internal Server Error", BODY),
        b"/big": (b"200 OK", b"x" * (1 << 20) + BODY),
    }.get(path, (b"404 Not Found", b""))
    head = b"HTTP/1.1 " + status + b"\r\nContent-Length: %d\r\n\r\n" % len(body)
    writer.write(head + body)
    await writer.drain()
    writer.close()


def closed_port(kind: int) -> int:
    """A loopback port nothing listens on (bound, read, released)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def http_url(run: Run[Any]) -> Iterator[str]:
    server = run(asyncio.start_server(_http, "127.0.0.1", 0))
    yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    server.close()


def test_http_ok_with_body_match(run: Run[Any], http_url: str) -> None:
    result, _ = timed(run, check("http", f"{http_url}/ok", body_contains="all systems"))
    assert result.outcome is Outcome.OK, result.error
    assert result.status_code == 200
    assert result.latency_ms is not None and 0 < result.latency_ms < 500


def test_http_unaccepted_status_fails(run: Run[Any], http_url: str) -> None:
    result, _ = timed(run, check("http", f"{http_url}/error"))
    assert result.outcome is Outcome.FAILED
    assert result.status_code == 500
    assert result.error is not None and "status 500" in result.error


def test_http_body_mismatch_fails(run: Run[Any], http_url: str) -> None:
    result, _ = timed(run, check("http", f"{http_url}/ok", body_contains="degraded"))
    assert result.outcome is Outcome.FAILED
    assert result.error is not None and "body does not contain 'degraded'" in result.error


def test_http_body_is_read_only_up_to_one_mebibyte(run: Run[Any], http_url: str) -> None:
    result, _ = timed(run, check("http", f"{http_url}/big", body_contains="callprobe"))
    assert result.outcome is Outcome.FAILED
    assert result.error is not None and "1048576 bytes" in result.error


def test_http_server_that_never_answers_times_out(run: Run[Any], http_url: str) -> None:
    result, elapsed = timed(run, check("http", f"{http_url}/silent", timeout_s=1.0))
    assert result.outcome is Outcome.TIMEOUT
    assert 0.9 < elapsed < 2.0


def test_http_connection_refused_fails(run: Run[Any]) -> None:
    port = closed_port(socket.SOCK_STREAM)
    result, _ = timed(run, check("http", f"http://127.0.0.1:{port}/"))
    assert result.outcome is Outcome.FAILED
    assert result.error is not None and result.error.startswith("cannot connect")


def test_tcp_connect_time_and_refusal(run: Run[Any], http_url: str) -> None:
    ok, _ = timed(run, check("tcp", http_url.removeprefix("http://")))
    assert ok.outcome is Outcome.OK
    assert ok.latency_ms is not None and 0 < ok.latency_ms < 100
    refused, _ = timed(run, check("tcp", f"127.0.0.1:{closed_port(socket.SOCK_STREAM)}"))
    assert refused.outcome is Outcome.FAILED
    assert refused.error is not None and "connection refused" in refused.error


def test_icmp_loopback_answers_every_echo(run: Run[Any]) -> None:
    result, _ = timed(run, check("icmp", "127.0.0.1", count=3, interval_s=0.05))
    assert result.outcome is Outcome.OK, result.error
    assert (result.rx_packets, result.rx_loss_pct) == (3, 0.0)
    assert result.latency_ms is not None and 0 < result.latency_ms < 10


def test_icmp_to_a_silent_address_loses_everything(run: Run[Any]) -> None:
    # TEST-NET-3 (RFC 5737): routed out of this box, never answered. (TEST-NET-1's
    # 192.0.2.1 is this sandbox's gateway, which does answer.)
    result, elapsed = timed(run, check("icmp", "203.0.113.9", timeout_s=1.0, count=2))
    assert result.outcome is Outcome.FAILED
    assert result.error == "no echo replies"
    assert (result.rx_packets, result.rx_loss_pct) == (0, 100.0)
    assert elapsed < 1.2


def test_icmp_unresolvable_host_is_invalid(run: Run[Any]) -> None:
    result, _ = timed(run, check("icmp", "no-such-host.invalid"))
    assert result.outcome is Outcome.INVALID_INPUT


def test_icmp_without_privileges_says_what_it_needs() -> None:
    """Without CAP_NET_RAW and with ping_group_range closed (as on this box) neither
    socket kind opens. The capability is dropped rather than the user, so the
    interpreter stays readable wherever the checkout lives."""
    with open("/proc/sys/net/ipv4/ping_group_range") as fh:
        low, high = (int(x) for x in fh.read().split())
    if low <= os.getgid() <= high:
        pytest.skip("this group may open unprivileged ICMP sockets here")
    code = (
        "import asyncio, uuid;"
        "from probes.kinds.checks import CheckSpec, run_check;"
        "from probes.kinds.options import IcmpOptions;"
        "s = CheckSpec(run_id=uuid.uuid4(), probe_id=None, probe_name='n', kind='icmp',"
        " target='127.0.0.1', timeout_s=2, options=IcmpOptions());"
        "r = asyncio.run(run_check(s)); print(r.outcome.value, r.error, sep='|')"
    )
    import subprocess
    import sys

    out = subprocess.run(
        ["setpriv", "--bounding-set", "-net_raw", sys.executable, "-c", code],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert out.stdout.strip() == f"engine_error|{NO_RAW_SOCKETS}"


class _Silent(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.received: list[float] = []

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.received.append(time.monotonic())


class _Garbage(asyncio.DatagramProtocol):
    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.transport.sendto(b"SIP/2.0 200 OK\r\n\x00\xff\r\n\r\n", addr)


async def _options_against(protocol: type[asyncio.DatagramProtocol], spec_timeout: float) -> Any:
    loop = asyncio.get_running_loop()
    transport, peer = await loop.create_datagram_endpoint(protocol, local_addr=("127.0.0.1", 0))
    port = transport.get_extra_info("sockname")[1]
    try:
        started = time.monotonic()
        result = await run_check(check("sip_options", f"sip:127.0.0.1:{port}", spec_timeout))
        return result, time.monotonic() - started, peer
    finally:
        transport.close()


def test_options_to_a_silent_udp_port_times_out_after_retransmitting(run: Run[Any]) -> None:
    result, elapsed, peer = run(_options_against(_Silent, 2.0))
    assert result.outcome is Outcome.TIMEOUT
    assert 2.0 <= elapsed < 3.0
    # RFC 3261 timer E: sent at 0, 0.5 and 1.5 s within the 2 s timeout
    gaps = [round(b - a, 1) for a, b in zip(peer.received, peer.received[1:], strict=False)]
    assert gaps == [0.5, 1.0]


def test_options_to_a_garbage_answering_peer_fails(run: Run[Any]) -> None:
    result, elapsed, _ = run(_options_against(_Garbage, 2.0))
    assert result.outcome is Outcome.FAILED
    assert result.error is not None and result.error.startswith("malformed SIP response")
    assert elapsed < 0.5


def test_options_to_a_closed_udp_port_fails_at_once(run: Run[Any]) -> None:
    port = closed_port(socket.SOCK_DGRAM)
    result, elapsed = timed(run, check("sip_options", f"sip:127.0.0.1:{port}"))
    assert result.outcome is Outcome.FAILED
    assert result.error is not None and "port unreachable" in result.error
    assert elapsed < 0.5


def test_options_over_tcp_refused_and_hung_up(run: Run[Any]) -> None:
    port = closed_port(socket.SOCK_STREAM)
    refused, _ = timed(run, check("sip_options", f"sip:127.0.0.1:{port}", transport="tcp"))
    assert refused.outcome is Outcome.FAILED
    assert refused.error is not None and "connection refused" in refused.error

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    async def against_hang_up() -> CallResult:
        server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
        target = f"sip:127.0.0.1:{server.sockets[0].getsockname()[1]}"
        async with server:
            return await run_check(check("sip_options", target, transport="tcp"))

    closed = run(against_hang_up())
    assert closed.outcome is Outcome.FAILED
    assert closed.error is not None and "closed by the peer" in closed.error
