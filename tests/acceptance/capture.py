"""tshark on loopback as an independent witness: capture a call, read back what crossed the wire.

`capture()` runs tshark for the duration of a ``with`` block; `packets()` lists
the RTP, RTCP and SIP frames (one tshark pass) and `rtp_streams()` gives
Wireshark's own per-stream analysis (RFC 3550 interarrival jitter and loss).
RTP/RTCP are decoded on the ports given (decode-as), never guessed.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.acceptance.conftest import stop

START_TIMEOUT_S = 15.0


@contextmanager
def capture(pcap: Path, bpf: str) -> Iterator[Path]:
    """Capture loopback traffic matching ``bpf`` into ``pcap`` while the block runs."""
    log = pcap.with_suffix(".log")
    with log.open("wb") as err:
        proc = subprocess.Popen(
            ["tshark", "-i", "lo", "-q", "-f", bpf, "-w", str(pcap)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )
    try:
        _wait_capturing(proc, log)
        yield pcap
    finally:
        stop(proc)


def _wait_capturing(proc: subprocess.Popen[bytes], log: Path) -> None:
    """tshark says "Capturing on" once its capture filter is in place."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while b"Capturing on" not in log.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"tshark did not start capturing: {log.read_text()[-2000:]}")
        time.sleep(0.05)


@dataclass(frozen=True, kw_only=True, slots=True)
class Packet:
    """One captured frame; the fields its kind does not have are None."""

    time: float
    src_port: int
    dst_port: int
    rtp_seq: int | None = None
    rr_high_seq: int | None = None  # extended highest sequence number of the first report block
    rr_cum_lost: int | None = None  # cumulative number of packets lost, same block
    sip_method: str | None = None


_FIELDS = (
    "frame.time_relative",
    "udp.srcport",
    "udp.dstport",
    "rtp.seq",
    "rtcp.ssrc.high_seq",
    "rtcp.ssrc.cum_nr",
    "sip.Method",
)


def packets(pcap: Path, rtp_ports: Iterable[int]) -> list[Packet]:
    """RTP, RTCP (RTP port + 1) and SIP frames, in capture order."""
    command = [*_read(pcap, rtp_ports), "-Y", "rtp || rtcp || sip", "-T", "fields"]
    command += ["-E", "occurrence=f", *(arg for f in _FIELDS for arg in ("-e", f))]
    return [_packet(line.split("\t")) for line in _run(command).splitlines() if line]


def _packet(cells: list[str]) -> Packet:
    def number(text: str) -> int | None:
        return int(text, 0) if text else None

    time_, src, dst, seq, high, lost, method = cells
    return Packet(
        time=float(time_),
        src_port=int(src),
        dst_port=int(dst),
        rtp_seq=number(seq),
        rr_high_seq=number(high),
        rr_cum_lost=number(lost),
        sip_method=method or None,
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class RtpStream:
    """One row of ``tshark -z rtp,streams``."""

    src_port: int
    dst_port: int
    ssrc: int
    packets: int
    lost: int
    mean_jitter_ms: float
    max_jitter_ms: float


_STREAM_ROW = re.compile(
    r"^\s*[\d.]+\s+[\d.]+\s+\S+\s+(?P<src>\d+)\s+\S+\s+(?P<dst>\d+)\s+(?P<ssrc>0x[0-9A-Fa-f]+)"
    r"\s+\S+\s+(?P<packets>\d+)\s+(?P<lost>-?\d+)\s+\([^)]*\)"
    r"\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+(?P<mean_jitter>[\d.]+)\s+(?P<max_jitter>[\d.]+)"
)


def rtp_streams(pcap: Path, rtp_ports: Iterable[int]) -> list[RtpStream]:
    """Wireshark's RTP stream analysis of the capture."""
    text = _run([*_read(pcap, rtp_ports), "-q", "-z", "rtp,streams"])
    return [
        RtpStream(
            src_port=int(m["src"]),
            dst_port=int(m["dst"]),
            ssrc=int(m["ssrc"], 16),
            packets=int(m["packets"]),
            lost=int(m["lost"]),
            mean_jitter_ms=float(m["mean_jitter"]),
            max_jitter_ms=float(m["max_jitter"]),
        )
        for m in map(_STREAM_ROW.match, text.splitlines())
        if m is not None
    ]


def unwrap(sequence_numbers: Iterable[int]) -> list[int]:
    """16-bit RTP sequence numbers (in arrival order) extended across wraps, RFC 3550 style."""
    extended: list[int] = []
    for seq in sequence_numbers:
        if not extended:
            extended.append(seq)
            continue
        last = extended[-1]
        candidate = (last & ~0xFFFF) | seq
        if candidate < last - 0x8000:
            candidate += 0x10000
        elif candidate > last + 0x8000:
            candidate -= 0x10000
        extended.append(candidate)
    return extended


def _read(pcap: Path, rtp_ports: Iterable[int]) -> list[str]:
    """``tshark -r`` decoding RTP on each port and RTCP on the port above it."""
    decode = []
    for port in rtp_ports:
        decode += ["-d", f"udp.port=={port},rtp", "-d", f"udp.port=={port + 1},rtcp"]
    return ["tshark", "-r", str(pcap), *decode]


def _run(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr[-2000:]}")
    return done.stdout
