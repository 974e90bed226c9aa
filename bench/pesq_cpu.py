"""CPU cost of scoring one call: PESQ (with alignment), the codec ceiling, the E-model.

.venv/bin/python bench/pesq_cpu.py --repeats 20
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
from rich.console import Console
from rich.table import Table

from media.audio import load_audio
from media.call_rating import emodel_for_call
from media.ceiling import codec_ceiling
from media.codecs import Codec, get_codec, transcode
from media.library import default_reference
from media.pesq_score import score


def _cpu_ms(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        samples.append((time.process_time() - start) * 1000)
    return statistics.median(samples), max(samples)


def _received(codec: Codec) -> tuple[np.ndarray, np.ndarray]:
    """The reference and a 'received' copy: through the codec and 120 ms late."""
    reference = load_audio(default_reference(codec.sample_rate), codec.sample_rate)
    decoded = transcode(reference, codec.sample_rate, codec)
    late = np.concatenate([np.zeros(int(0.12 * codec.sample_rate)), decoded])
    return reference, late


def _steps(codec: Codec) -> dict[str, Callable[[], object]]:
    reference, received = _received(codec)
    rate = codec.sample_rate
    return {
        "PESQ + alignment": lambda: score(reference, received, rate),
        "codec ceiling, first time": lambda: score(
            reference, transcode(reference, rate, codec), rate
        ),
        "codec ceiling, cached": lambda: codec_ceiling(reference, rate, codec),
        "E-model": lambda: emodel_for_call(codec, 1.0, 0.5, 60.0),
    }


def main(repeats: int) -> Table:
    table = Table(title=f"CPU per scoring step (median / max of {repeats}, one core)")
    for column in ("codec", "step", "CPU ms median", "CPU ms max"):
        table.add_column(column, justify="right")
    for name in ("PCMU", "G722"):
        for step, fn in _steps(get_codec(name)).items():
            median, worst = _cpu_ms(fn, repeats)
            table.add_row(name, step, f"{median:.1f}", f"{worst:.1f}")
    return table


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    Console().print(main(parser.parse_args().repeats))
