"""`python -m peers.impairment`: argparse flags → `RelayConfig`, run until SIGTERM/SIGINT.

Every impairment flag comes in three forms: `--delay-ms` sets both
directions, `--delay-ms-to-target` / `--delay-ms-to-client` set one and win
over the plain form. SIGUSR1 prints the stats JSON (and rewrites the stats
file); on exit the final stats are printed to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from peers.impairment.config import GilbertElliott, Impairment, JitterDistribution, RelayConfig
from peers.impairment.relay import ImpairmentRelay
from peers.impairment.sip_headers import Address
from peers.impairment.stats import RelayStats


@dataclass(frozen=True, kw_only=True, slots=True)
class _Flag:
    """One impairment flag and the model field it sets."""

    stem: str
    field: str
    kind: Callable[[str], Any] | None  # None: a switch
    metavar: str
    help: str


_IMPAIRMENT_FLAGS = (
    _Flag(stem="loss", metavar="PCT", field="loss_pct", kind=float, help="random loss, percent"),
    _Flag(stem="delay-ms", metavar="MS", field="delay_ms", kind=float, help="fixed delay, ms"),
    _Flag(
        stem="jitter-ms",
        metavar="MS",
        field="jitter_ms",
        kind=float,
        help="extra random delay 0..N ms",
    ),
    _Flag(
        stem="jitter-dist",
        metavar="{uniform,normal}",
        field="jitter_distribution",
        kind=JitterDistribution,
        help="uniform or normal (mean N/2, sd N/4, clipped)",
    ),
    _Flag(
        stem="preserve-order",
        metavar="",
        field="preserve_order",
        kind=None,
        help="jitter never reorders",
    ),
    _Flag(
        stem="reorder",
        metavar="PCT",
        field="reorder_pct",
        kind=float,
        help="packets held back, percent",
    ),
    _Flag(
        stem="reorder-delay-ms",
        metavar="MS",
        field="reorder_delay_ms",
        kind=float,
        help="hold time, ms",
    ),
    _Flag(
        stem="duplicate",
        metavar="PCT",
        field="duplicate_pct",
        kind=float,
        help="packets sent twice, percent",
    ),
)
_GILBERT_ELLIOTT_FLAGS = (
    _Flag(stem="ge-p", metavar="P", field="p", kind=float, help="Gilbert-Elliott P(good→bad)"),
    _Flag(stem="ge-r", metavar="P", field="r", kind=float, help="Gilbert-Elliott P(bad→good)"),
    _Flag(
        stem="ge-loss-bad",
        metavar="P",
        field="loss_bad",
        kind=float,
        help="loss probability when bad",
    ),
    _Flag(
        stem="ge-loss-good",
        metavar="P",
        field="loss_good",
        kind=float,
        help="loss probability when good",
    ),
)


def build_parser() -> argparse.ArgumentParser:
    """All flags; impairment ones in their three forms."""
    parser = argparse.ArgumentParser(prog="python -m peers.impairment", description=__doc__)
    parser.add_argument("--listen", type=_address, default=("127.0.0.1", 5070), metavar="HOST:PORT")
    parser.add_argument("--target", type=_address, default=("127.0.0.1", 5080), metavar="HOST:PORT")
    parser.add_argument(
        "--rtp-ports", type=_port_range, default=(40000, 40999), metavar="FIRST-LAST"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--impair-rtcp", action="store_true", help="impair RTCP like RTP")
    parser.add_argument("--stats-json", type=Path, metavar="PATH", help="rewritten atomically")
    parser.add_argument("--stats-interval", type=float, default=1.0, metavar="SECONDS")
    parser.add_argument("--idle-timeout", type=float, default=60.0, metavar="SECONDS")
    parser.add_argument("--log-level", default="INFO")
    for flag in (*_IMPAIRMENT_FLAGS, *_GILBERT_ELLIOTT_FLAGS):
        for suffix in ("", "-to-target", "-to-client"):
            _add_flag(parser, flag, suffix)
    return parser


def config_from_args(argv: Sequence[str] | None = None) -> RelayConfig:
    """Parse flags into a validated config (argparse exits with status 2 on bad input)."""
    parser = build_parser()
    return _config(parser, parser.parse_args(argv))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the relay until SIGTERM/SIGINT; print the final stats."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    stats = asyncio.run(_serve(_config(parser, args)))
    print(stats.to_json(), flush=True)
    return 0


async def _serve(config: RelayConfig) -> RelayStats:
    """Start, wait for a stop signal, stop; SIGUSR1 dumps the stats meanwhile."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    relay = ImpairmentRelay(config)
    await relay.start()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGUSR1, _dump, relay)
    await stop.wait()
    return await relay.stop()


def _dump(relay: ImpairmentRelay) -> None:
    """Stats on request: stdout and the stats file."""
    relay.write_stats()
    print(relay.stats().to_json(), flush=True)


def _config(parser: argparse.ArgumentParser, args: argparse.Namespace) -> RelayConfig:
    """Namespace → RelayConfig; validation errors become usage errors."""
    try:
        return RelayConfig(
            listen_host=args.listen[0],
            listen_port=args.listen[1],
            target_host=args.target[0],
            target_port=args.target[1],
            rtp_port_range=args.rtp_ports,
            to_target=_impairment(args, "to_target"),
            to_client=_impairment(args, "to_client"),
            impair_rtcp=args.impair_rtcp,
            seed=args.seed,
            call_idle_timeout_s=args.idle_timeout,
            stats_path=args.stats_json,
            stats_interval_s=args.stats_interval,
        )
    except ValidationError as error:
        parser.error(str(error))


def _impairment(args: argparse.Namespace, direction: str) -> Impairment:
    """One direction's impairment: its own flags, else the both-directions ones."""
    values = _picked(args, _IMPAIRMENT_FLAGS, direction)
    bursts = _picked(args, _GILBERT_ELLIOTT_FLAGS, direction)
    if bursts:
        values["gilbert_elliott"] = GilbertElliott(**bursts)
    return Impairment(**values)


def _picked(args: argparse.Namespace, flags: Sequence[_Flag], direction: str) -> dict[str, Any]:
    """Field values given on the command line for this direction."""
    values = {}
    for flag in flags:
        own = getattr(args, _dest(flag.stem, direction))
        value = own if own is not None else getattr(args, _dest(flag.stem, ""))
        if value is not None:
            values[flag.field] = value
    return values


def _add_flag(parser: argparse.ArgumentParser, flag: _Flag, suffix: str) -> None:
    """`--stem` plus `-to-target` / `-to-client` variants, all defaulting to None."""
    where = suffix.replace("-", " ").strip() or "both directions"
    dest = _dest(flag.stem, suffix.removeprefix("-").replace("-", "_"))
    if flag.kind is None:
        parser.add_argument(
            f"--{flag.stem}{suffix}", dest=dest, action="store_const", const=True, help=where
        )
    else:
        parser.add_argument(
            f"--{flag.stem}{suffix}",
            dest=dest,
            type=flag.kind,
            metavar=flag.metavar,
            help=f"{flag.help} ({where})",
        )


def _dest(stem: str, direction: str) -> str:
    """Namespace attribute of a flag form."""
    return stem.replace("-", "_") + (f"__{direction}" if direction else "")


def _address(text: str) -> Address:
    """HOST:PORT."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)


def _port_range(text: str) -> tuple[int, int]:
    """FIRST-LAST."""
    first, _, last = text.partition("-")
    if not (first.isdigit() and last.isdigit()):
        raise argparse.ArgumentTypeError(f"expected FIRST-LAST, got {text!r}")
    return int(first), int(last)
