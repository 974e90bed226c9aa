"""Real SIP dialogs through the impairment relay, on loopback.

Most tests call `sipp -sn uas -rtp_echo` through the relay with a small
hand-written UAC (INVITE with SDP, ACK, RTP with sequence numbers, BYE).
SIPp echoes RTP bit-exactly, so every sequence number that does not come
back was dropped by the relay, in one direction or the other, and must match
the relay's counters exactly. SIPp sends no RTCP and never hangs up, so one
test plays the UAS by hand: callee-side BYE and RTCP.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import pytest

from peers.impairment import Impairment, ImpairmentRelay, RelayConfig, RelayStats

pytestmark = [
    pytest.mark.sip,
]

HOST = "127.0.0.1"
SSRC = 0x5EED0001
PACKET_GAP = 0.002
REPO = Path(__file__).resolve().parents[2]
Address = tuple[str, int]


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port_block(size: int) -> int:
    """An even UDP port with `size` free ports from it (checked by binding them)."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind((HOST, 0))
            base = int(probe.getsockname()[1]) & ~1
        if base + size < 65535 and all(_bindable(base + i) for i in range(size)):
            return base
    raise RuntimeError("no free UDP port block")


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def sipp_uas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Address]:
    """A SIPp UAS with RTP echo on loopback, killed whatever happens."""
    sip_port, media_port = free_port_block(1), free_port_block(4)
    command = ["sipp", "-sn", "uas", "-rtp_echo", "-i", HOST, "-p", str(sip_port)]
    command += ["-mi", HOST, "-mp", str(media_port), "-nostdin"]
    process = subprocess.Popen(
        command,
        cwd=tmp_path_factory.mktemp("sipp"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: process.poll() is not None or not _bindable(sip_port))
        assert process.poll() is None, "sipp exited at start"
        yield HOST, sip_port
    finally:
        process.kill()
        process.wait(timeout=5)


# --- a minimal SIP user agent ------------------------------------------------------------


@dataclass
class Sip:
    """A parsed SIP message (independent of the relay's own parser)."""

    start: str
    headers: list[tuple[str, str]]
    body: str

    @classmethod
    def parse(cls, data: bytes) -> Sip:
        head, _, body = data.decode().partition("\r\n\r\n")
        lines = head.split("\r\n")
        pairs = [line.split(":", 1) for line in lines[1:]]
        return cls(lines[0], [(n.strip().lower(), v.strip()) for n, v in pairs], body)

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]

    def one(self, name: str) -> str:
        return self.all(name)[0]

    @property
    def status(self) -> int:
        return int(self.start.split()[1]) if self.start.startswith("SIP/2.0") else 0

    @property
    def uri(self) -> str:
        return self.start.split()[1]

    @property
    def contact(self) -> str:
        return self.one("contact").strip("<>").split(">")[0]


def sip_text(start: str, headers: list[str], body: str = "") -> bytes:
    content = ["Content-Type: application/sdp"] if body else []
    lines = [start, *headers, *content, f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def response_to(request: Sip, status: str, contact: str, body: str = "") -> bytes:
    to = request.one("to")
    to = to if ";tag=" in to else f"{to};tag={uuid.uuid4().hex[:6]}"
    headers = [f"Via: {via}" for via in request.all("via")]
    headers += [f"From: {request.one('from')}", f"To: {to}", f"Call-ID: {request.one('call-id')}"]
    headers += [f"CSeq: {request.one('cseq')}", f"Contact: <{contact}>"]
    return sip_text(f"SIP/2.0 {status}", headers, body)


def audio_sdp(rtp_port: int, rtcp_port: int | None = None) -> str:
    lines = ["v=0", f"o=test 1 1 IN IP4 {HOST}", "s=-", f"c=IN IP4 {HOST}", "t=0 0"]
    lines += [f"m=audio {rtp_port} RTP/AVP 0", "a=rtpmap:0 PCMU/8000"]
    lines += [f"a=rtcp:{rtcp_port}"] if rtcp_port else []
    return "\r\n".join([*lines, ""])


def sdp_media(body: str) -> Address:
    """(c= address, m=audio port) of an SDP body."""
    lines = body.split("\r\n")
    host = next(line.split()[-1] for line in lines if line.startswith("c="))
    port = next(int(line.split()[1]) for line in lines if line.startswith("m=audio"))
    return host, port


def rtp_packet(seq: int) -> bytes:
    return struct.pack("!BBHII", 0x80, 0, seq, seq * 160, SSRC) + b"\xff" * 160


def rtcp_receiver_report() -> bytes:
    return struct.pack("!BBHI", 0x80, 201, 1, SSRC)


class UdpEndpoint(asyncio.DatagramProtocol):
    """A loopback UDP socket with an awaitable receive queue."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[bytes, float]] = asyncio.Queue()
        self.transport: asyncio.DatagramTransport | None = None

    @classmethod
    async def open(cls) -> UdpEndpoint:
        loop = asyncio.get_running_loop()
        _, endpoint = await loop.create_datagram_endpoint(cls, local_addr=(HOST, 0))
        return endpoint

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self.queue.put_nowait((data, time.monotonic()))

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    def send(self, data: bytes, address: Address) -> None:
        assert self.transport is not None
        self.transport.sendto(data, address)

    async def receive(self, timeout: float = 5.0) -> tuple[bytes, float]:
        return await asyncio.wait_for(self.queue.get(), timeout)

    async def receive_sip(self) -> Sip:
        return Sip.parse((await self.receive())[0])

    async def drain(self, quiet: float = 0.4) -> list[bytes]:
        """Everything that arrives until `quiet` seconds pass without a datagram."""
        received = []
        while True:
            try:
                received.append((await self.receive(timeout=quiet))[0])
            except TimeoutError:
                return received

    def close(self) -> None:
        assert self.transport is not None
        self.transport.close()


@dataclass
class Uac:
    """Just enough of a UAC for one call: INVITE → 200 → ACK ... BYE → 200."""

    relay: Address
    sip: UdpEndpoint
    rtp: UdpEndpoint
    call_id: str = field(default_factory=lambda: f"{uuid.uuid4().hex}@callprobe.test")
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    to: str = ""
    remote_target: str = ""
    media: Address = ("", 0)

    @classmethod
    async def open(cls, relay: Address) -> Uac:
        return cls(relay=relay, sip=await UdpEndpoint.open(), rtp=await UdpEndpoint.open())

    @property
    def contact(self) -> str:
        return f"sip:probe@{HOST}:{self.sip.port};transport=udp"

    def request(self, method: str, uri: str, cseq: int, body: str = "") -> bytes:
        branch = f"z9hG4bK{uuid.uuid4().hex[:12]}"
        headers = [
            f"Via: SIP/2.0/UDP {HOST}:{self.sip.port};branch={branch};rport",
            "Max-Forwards: 70",
            f"From: <sip:probe@{HOST}>;tag={self.tag}",
            f"To: {self.to or f'<sip:echo@{HOST}>'}",
            f"Call-ID: {self.call_id}",
            f"CSeq: {cseq} {method}",
            f"Contact: <{self.contact}>",
        ]
        return sip_text(f"{method} {uri} SIP/2.0", headers, body)

    async def final_response(self) -> Sip:
        while (response := await self.sip.receive_sip()).status < 200:
            pass
        return response

    async def invite(self) -> Sip:
        uri = f"sip:echo@{self.relay[0]}:{self.relay[1]}"
        self.sip.send(self.request("INVITE", uri, 1, audio_sdp(self.rtp.port)), self.relay)
        answer = await self.final_response()
        assert answer.status == 200, answer.start
        self.to, self.remote_target = answer.one("to"), answer.contact
        self.media = sdp_media(answer.body)
        self.sip.send(self.request("ACK", self.remote_target, 1), self.relay)
        return answer

    async def bye(self) -> Sip:
        self.sip.send(self.request("BYE", self.remote_target, 2), self.relay)
        return await self.final_response()

    async def stream(self, count: int) -> list[int]:
        """Send `count` RTP packets; the sequence numbers that came back, in arrival order."""
        for seq in range(count):
            self.rtp.send(rtp_packet(seq), self.media)
            await asyncio.sleep(PACKET_GAP)
        return [struct.unpack("!H", data[2:4])[0] for data in await self.rtp.drain()]

    async def round_trips(self, count: int) -> list[float]:
        """Ping-pong RTP packets one at a time; seconds each."""
        times = []
        for seq in range(count):
            sent = time.monotonic()
            self.rtp.send(rtp_packet(seq), self.media)
            _, arrived = await self.rtp.receive(timeout=2)
            times.append(arrived - sent)
        return times

    def close(self) -> None:
        self.sip.close()
        self.rtp.close()


# --- helpers -------------------------------------------------------------------------------


def relay_config(target: Address, **overrides: object) -> RelayConfig:
    base = free_port_block(16)
    fields = {
        "listen_host": HOST,
        "listen_port": 0,
        "target_host": target[0],
        "target_port": target[1],
        "rtp_port_range": (base, base + 15),
        **overrides,
    }
    return RelayConfig.model_validate(fields)


async def streamed_call(relay: Address, count: int) -> tuple[Uac, list[int]]:
    """One whole call with `count` RTP packets; the UAC and the echoed sequence numbers."""
    uac = await Uac.open(relay)
    try:
        await uac.invite()
        echoed = await uac.stream(count)
        assert (await uac.bye()).status == 200
    finally:
        uac.close()
    return uac, echoed


async def through_relay(
    config: RelayConfig, count: int, calls: int = 1
) -> tuple[list[Uac], list[list[int]], RelayStats]:
    """`calls` concurrent calls through a fresh in-process relay."""
    relay = ImpairmentRelay(config)
    await relay.start()
    try:
        results = await asyncio.gather(
            *(streamed_call(relay.sip_address, count) for _ in range(calls))
        )
    finally:
        stats = await relay.stop()
    return [uac for uac, _ in results], [echoed for _, echoed in results], stats


def reordered(arrivals: list[int]) -> int:
    """RFC 4737: first arrivals of packets that came after a higher sequence number."""
    seen, highest, count = set(), -1, 0
    for seq in arrivals:
        if seq in seen:
            continue
        seen.add(seq)
        count += seq < highest
        highest = max(highest, seq)
    return count


# --- tests against SIPp --------------------------------------------------------------------


@pytest.mark.parametrize("lossy", ["to_target", "to_client"])
def test_missing_sequence_numbers_equal_the_drops_of_the_lossy_direction(
    sipp_uas: Address, lossy: str
) -> None:
    config = relay_config(sipp_uas, seed=11, **{lossy: Impairment(loss_pct=10)})

    [uac], [echoed], stats = asyncio.run(through_relay(config, 500))

    missing = 500 - len(set(echoed))
    clean = "to_client" if lossy == "to_target" else "to_target"
    assert 20 < missing < 90
    assert getattr(stats, lossy).rtp.dropped == missing
    assert getattr(stats, lossy).rtp.dropped_by_ssrc == {SSRC: missing}
    assert getattr(stats, clean).rtp.dropped == 0
    assert stats.to_target.rtp.received == 500
    assert stats.to_client.rtp.forwarded == len(echoed)
    assert [call.active for call in stats.calls] == [False]
    assert uac.media == (HOST, stats.calls[0].caller_facing_port)
    assert uac.remote_target.startswith(f"sip:{stats.sip_address};")  # Contact via the relay


def test_the_same_seed_drops_the_same_packets(sipp_uas: Address) -> None:
    config = relay_config(sipp_uas, seed=5, to_target=Impairment(loss_pct=5))

    runs = [asyncio.run(through_relay(config, 300))[1][0] for _ in range(2)]

    assert runs[0] == runs[1]
    assert len(runs[0]) < 300


def test_jitter_reordering_and_duplicates_are_counted_as_the_receiver_sees_them(
    sipp_uas: Address,
) -> None:
    impairment = Impairment(jitter_ms=6, reorder_pct=5, reorder_delay_ms=10, duplicate_pct=5)
    config = relay_config(sipp_uas, seed=2, to_client=impairment)

    _, [arrivals], stats = asyncio.run(through_relay(config, 400))

    to_client = stats.to_client.rtp
    assert len(set(arrivals)) == to_client.forwarded == 400
    assert len(arrivals) - 400 == to_client.duplicated > 0
    assert reordered(arrivals) == to_client.reordered > 0


def test_concurrent_calls_get_their_own_ports_and_counters(sipp_uas: Address) -> None:
    config = relay_config(sipp_uas, seed=4, to_target=Impairment(loss_pct=10))

    uacs, echoes, stats = asyncio.run(through_relay(config, 300, calls=2))

    by_call = {call.call_id: call for call in stats.calls}
    for uac, echoed in zip(uacs, echoes, strict=True):
        assert by_call[uac.call_id].to_target.rtp.dropped == 300 - len(echoed)
        assert uac.media[1] == by_call[uac.call_id].caller_facing_port
    assert sorted(call.ordinal for call in stats.calls) == [1, 2]
    assert (
        len({port for c in stats.calls for port in (c.caller_facing_port, c.callee_facing_port)})
        == 4
    )


def test_delay_in_both_directions_shows_in_the_round_trip(sipp_uas: Address) -> None:
    delay = Impairment(delay_ms=40)
    config = relay_config(sipp_uas, to_target=delay, to_client=delay)

    async def scenario() -> tuple[list[float], RelayStats]:
        relay = ImpairmentRelay(config)
        await relay.start()
        uac = await Uac.open(relay.sip_address)
        try:
            await uac.invite()
            rtts = await uac.round_trips(10)
            await uac.bye()
        finally:
            uac.close()
            stats = await relay.stop()
        return rtts, stats

    rtts, stats = asyncio.run(scenario())

    assert min(rtts) >= 0.080
    assert sorted(rtts)[5] < 0.080 + 0.030
    assert stats.to_target.rtp.delayed == stats.to_client.rtp.delayed == 10
    assert stats.to_client.rtp.delay_ms_total == pytest.approx(400, abs=0.1)


def test_the_command_line_relay_writes_its_stats_json(sipp_uas: Address, tmp_path: Path) -> None:
    sip_port, rtp_base = free_port_block(1), free_port_block(8)
    stats_path = tmp_path / "relay-stats.json"
    command = [sys.executable, "-m", "peers.impairment", "--listen", f"{HOST}:{sip_port}"]
    command += [
        "--target",
        f"{sipp_uas[0]}:{sipp_uas[1]}",
        "--rtp-ports",
        f"{rtp_base}-{rtp_base + 7}",
    ]
    command += ["--ge-p-to-client", "0.05", "--ge-r-to-client", "0.3", "--seed", "3"]
    command += ["--stats-json", str(stats_path), "--log-level", "WARNING"]
    env = os.environ | {"PYTHONPATH": str(REPO)}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env, cwd=REPO)
    try:
        wait_for(stats_path.exists)
        uac, echoed = asyncio.run(streamed_call((HOST, sip_port), 400))
        process.send_signal(signal.SIGUSR1)
        assert process.stdout is not None
        on_request = json.loads("".join(iter(process.stdout.readline, "}\n")) + "}")
        process.send_signal(signal.SIGTERM)
        stdout, _ = process.communicate(timeout=10)
    finally:
        process.kill()
        process.wait(timeout=5)

    written = json.loads(stats_path.read_text())
    missing = 400 - len(set(echoed))
    assert process.returncode == 0
    assert json.loads(stdout) == on_request == written
    assert written["to_client"]["rtp"]["dropped"] == missing > 0
    assert written["to_client"]["rtp"]["dropped_by_ssrc"] == {str(SSRC): missing}
    assert written["to_target"]["rtp"]["dropped"] == 0
    assert [(c["call_id"], c["active"]) for c in written["calls"]] == [(uac.call_id, False)]


# --- a hand-played UAS: callee hangs up, RTCP passes, idle calls end ------------------------


@dataclass
class HandUas:
    """The callee side played by the test, with RTCP on a port of its own (a=rtcp)."""

    sip: UdpEndpoint
    rtp: UdpEndpoint
    rtcp: UdpEndpoint

    @classmethod
    async def open(cls) -> HandUas:
        return cls(*[await UdpEndpoint.open() for _ in range(3)])

    @property
    def address(self) -> Address:
        return HOST, self.sip.port

    @property
    def contact(self) -> str:
        return f"sip:uas@{HOST}:{self.sip.port}"

    async def answer(self, relay: Address) -> Sip:
        """Receive the INVITE and answer 200 with SDP; the INVITE as received."""
        invite = await self.sip.receive_sip()
        sdp = audio_sdp(self.rtp.port, rtcp_port=self.rtcp.port)
        self.sip.send(response_to(invite, "200 OK", self.contact, sdp), relay)
        return invite

    def close(self) -> None:
        for endpoint in (self.sip, self.rtp, self.rtcp):
            endpoint.close()


async def answered_call(relay: ImpairmentRelay, uas: HandUas) -> tuple[Uac, Sip]:
    """A call from a fresh UAC, answered by the hand-played UAS."""
    uac = await Uac.open(relay.sip_address)
    invite_task = asyncio.create_task(uac.invite())
    invite = await uas.answer(relay.sip_address)
    await invite_task
    return uac, invite


def test_callee_bye_and_rtcp_pass_through_the_relay() -> None:
    async def scenario() -> None:
        uas = await HandUas.open()
        relay = ImpairmentRelay(relay_config(uas.address, to_target=Impairment(loss_pct=100)))
        await relay.start()
        relay_hostport = f"{relay.sip_address[0]}:{relay.sip_address[1]}"
        uac, invite = await answered_call(relay, uas)
        try:
            assert invite.uri == f"sip:echo@{HOST}:{uas.sip.port}"
            assert invite.contact == f"sip:probe@{relay_hostport};transport=udp"
            assert len(invite.all("via")) == 2
            assert (await uas.sip.receive_sip()).uri == uas.contact  # the ACK, mapped back

            for seq in range(20):
                uac.rtp.send(rtp_packet(seq), uac.media)
                uac.rtp.send(rtcp_receiver_report(), (uac.media[0], uac.media[1] + 1))
            assert len(await uas.rtcp.drain(quiet=0.2)) == 20
            assert await uas.rtp.drain(quiet=0.05) == []

            uas_via = f"SIP/2.0/UDP {HOST}:{uas.sip.port};branch=z9hG4bKuasbye"
            bye = sip_text(
                f"BYE {invite.contact} SIP/2.0",
                [
                    f"Via: {uas_via}",
                    f"From: {invite.one('to')};tag=uas1",
                    f"To: {invite.one('from')}",
                    f"Call-ID: {invite.one('call-id')}",
                    "CSeq: 1 BYE",
                    f"Contact: <{uas.contact}>",
                ],
            )
            uas.sip.send(bye, relay.sip_address)
            received_bye = await uac.sip.receive_sip()
            assert received_bye.uri == uac.contact  # the caller's real Contact
            uac.sip.send(response_to(received_bye, "200 OK", uac.contact), uac.relay)
            ok = await uas.sip.receive_sip()
            assert (ok.status, ok.all("via")) == (200, [uas_via])

            stats = relay.stats()
            assert [call.active for call in stats.calls] == [False]
            assert stats.to_target.rtp.dropped == 20
            assert stats.to_target.rtcp.forwarded == 20
        finally:
            uac.close()
            uas.close()
            await relay.stop()

    asyncio.run(scenario())


def test_idle_calls_are_released_and_the_stats_file_follows(tmp_path: Path) -> None:
    stats_path = tmp_path / "stats.json"

    async def scenario() -> tuple[dict[str, object], dict[str, object], RelayStats]:
        uas = await HandUas.open()
        config = relay_config(
            uas.address, call_idle_timeout_s=0.3, stats_interval_s=0.1, stats_path=stats_path
        )
        relay = ImpairmentRelay(config)
        await relay.start()
        uac, _ = await answered_call(relay, uas)
        try:
            await asyncio.sleep(0.15)
            during = json.loads(stats_path.read_text())
            await asyncio.sleep(0.6)
            after = json.loads(stats_path.read_text())
            return during, after, relay.stats()
        finally:
            uac.close()
            uas.close()
            await relay.stop()

    during, after, stats = asyncio.run(scenario())

    assert (during["calls_active"], after["calls_active"]) == (1, 0)
    assert all(
        _bindable(port)
        for port in (stats.calls[0].caller_facing_port, stats.calls[0].callee_facing_port)
    )
