"""Port pool, delay line ordering, RTP classification and the stats snapshot."""

from __future__ import annotations

import asyncio
import functools
import json
import struct

import pytest

from peers.impairment.delay_line import DelayLine
from peers.impairment.port_pool import PortPool, PortsExhausted
from peers.impairment.rtp_packet import is_rtcp, rtp_ssrc
from peers.impairment.stats import (
    CallStats,
    DirectionStats,
    RelayStats,
    StreamCounters,
    StreamStats,
)


def test_port_pool_hands_out_even_ports_round_robin() -> None:
    pool = PortPool(40001, 40008)

    taken = [pool.acquire(), pool.acquire(), pool.acquire()]
    pool.release(taken[0])

    assert len(pool) == 3
    assert taken == [40002, 40004, 40006]
    assert pool.acquire() == 40002
    with pytest.raises(PortsExhausted):
        pool.acquire()


def test_port_pool_does_not_reuse_a_released_pair_at_once() -> None:
    pool = PortPool(40000, 40009)
    first = pool.acquire()
    pool.release(first)

    assert pool.acquire() != first


def test_delay_line_runs_in_time_then_submission_order() -> None:
    async def scenario() -> list[str]:
        line, ran = DelayLine(), list[str]()
        now = asyncio.get_running_loop().time()
        for name, delay in [("c", 0.03), ("a", 0.01), ("b1", 0.02), ("b2", 0.02), ("now", 0.0)]:
            line.submit(now + delay, functools.partial(ran.append, name))
        await asyncio.sleep(0.06)
        return ran

    assert asyncio.run(scenario()) == ["now", "a", "b1", "b2", "c"]


def test_delay_line_flush_runs_everything_at_once() -> None:
    async def scenario() -> list[int]:
        line, ran = DelayLine(), list[int]()
        now = asyncio.get_running_loop().time()
        for index in range(3):
            line.submit(now + 10 - index, functools.partial(ran.append, index))
        line.flush()
        return ran

    assert asyncio.run(scenario()) == [2, 1, 0]


RTP = struct.pack("!BBHII", 0x80, 0x08, 7, 1120, 0xCAFE) + b"\xd5" * 160
RTP_MARKER_DYNAMIC = struct.pack("!BBHII", 0x80, 0x80 | 96, 1, 0, 0xBEEF)
RTCP_RR = struct.pack("!BBHI", 0x81, 201, 7, 0xCAFE) + bytes(24)


@pytest.mark.parametrize(
    ("datagram", "rtcp", "ssrc"),
    [
        (RTP, False, 0xCAFE),
        (RTP_MARKER_DYNAMIC, False, 0xBEEF),
        (RTCP_RR, True, None),
        (b"\x00\x01", False, None),
        (b"", False, None),
    ],
)
def test_rtp_classification(datagram: bytes, rtcp: bool, ssrc: int | None) -> None:
    assert is_rtcp(datagram) is rtcp
    assert rtp_ssrc(datagram) == ssrc


def test_snapshots_are_copies_and_add_up() -> None:
    counters = StreamCounters(received=10, dropped=2, delay_ms_total=1.5)
    counters.dropped_by_ssrc[5] += 2
    snapshot = counters.snapshot()
    counters.dropped_by_ssrc[5] += 1

    total = snapshot + StreamStats(received=1, dropped=1, dropped_by_ssrc={5: 1, 6: 0})

    assert snapshot.dropped_by_ssrc == {5: 2}
    assert total == StreamStats(received=11, dropped=3, delay_ms_total=1.5, dropped_by_ssrc={5: 3})


def test_relay_stats_json() -> None:
    direction = DirectionStats(rtp=StreamStats(received=4, dropped=1, dropped_by_ssrc={99: 1}))
    calls = [
        CallStats(
            call_id=f"c{n}",
            ordinal=n,
            active=n == 2,
            caller_facing_port=40000,
            callee_facing_port=40002,
            to_target=direction,
            to_client=DirectionStats(),
        )
        for n in (1, 2)
    ]

    stats = RelayStats.of_calls(
        sip_address="127.0.0.1:5070", target_address="127.0.0.1:5080", sip_messages=12, calls=calls
    )
    data = json.loads(stats.to_json())

    assert stats.calls_active == 1
    assert data["to_target"]["rtp"]["dropped"] == 2
    assert data["to_target"]["rtp"]["dropped_by_ssrc"] == {"99": 2}
    assert data["to_client"]["rtcp"]["received"] == 0
    assert [call["call_id"] for call in data["calls"]] == ["c1", "c2"]
    assert set(data) == {
        "sip_address",
        "target_address",
        "sip_messages",
        "calls_active",
        "calls",
        "to_target",
        "to_client",
    }
