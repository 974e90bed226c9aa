"""Scoring of a finished call: PESQ, codec ceiling and E-model.

This runs in a process pool separate from the engine workers: DESIGN.md measured
that scoring inside processes that carry live calls delays their media clocks.
Inputs and outputs are plain picklable values.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from media.audio import load_audio
from media.call_rating import emodel_for_call
from media.ceiling import codec_ceiling
from media.codecs import get_codec
from media.pesq_score import score

SCORING_NICENESS = 10
"""Scorers yield the CPU to live calls: on a busy box a late media clock costs a
jitter-buffer underrun, a late score costs nothing."""

PACKETIZATION_MS = 20.0
"""pjsua2's default ptime: one frame of sender-side delay."""


@dataclass(frozen=True, kw_only=True, slots=True)
class CallQualityInput:
    """What scoring needs: the audio files plus the measured network numbers."""

    reference: Path
    recording: Path | None
    codec: str
    rx_loss_pct: float
    jb_discard_pct: float
    one_way_delay_ms: float


@dataclass(frozen=True, kw_only=True, slots=True)
class CallQuality:
    """Scores of one call; ``no_audio`` when nothing audible came back."""

    no_audio: bool
    detail: str | None
    pesq_mos: float | None
    pesq_mode: str | None
    pesq_ceiling: float | None
    r_factor: float
    emodel_mos: float
    r0: float
    ie_eff: float
    id_delay: float


def scoring_pool(processes: int) -> ProcessPoolExecutor:
    """The process pool that scores calls, at low CPU priority."""
    return ProcessPoolExecutor(
        max_workers=processes,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=os.nice,
        initargs=(SCORING_NICENESS,),
    )


def one_way_delay_ms(rtt_ms: float | None, jb_delay_ms: float | None) -> float:
    """Mouth-to-ear delay estimate for G.107's T: half the RTT, the jitter buffer, a frame."""
    return (rtt_ms or 0.0) / 2.0 + (jb_delay_ms or 0.0) + PACKETIZATION_MS


def score_call(item: CallQualityInput) -> CallQuality:
    """Score one call (runs in the scoring pool)."""
    codec = get_codec(item.codec)
    model = emodel_for_call(
        codec, item.rx_loss_pct, item.jb_discard_pct, item.one_way_delay_ms, plc=True
    )
    reference = load_audio(item.reference, codec.sample_rate)
    pesq_mos = pesq_mode = detail = None
    no_audio = item.recording is None
    if item.recording is not None:
        degraded = load_audio(item.recording, codec.sample_rate, validate=False)
        pesq = score(reference, degraded, codec.sample_rate)
        pesq_mos, pesq_mode, detail, no_audio = pesq.mos, pesq.mode, pesq.detail, pesq.no_audio
    return CallQuality(
        no_audio=no_audio,
        detail=detail if item.recording is not None else "nothing was recorded",
        pesq_mos=pesq_mos,
        pesq_mode=pesq_mode,
        pesq_ceiling=codec_ceiling(reference, codec.sample_rate, codec),
        r_factor=model.r,
        emodel_mos=model.mos,
        r0=model.r0,
        ie_eff=model.ie_eff,
        id_delay=model.id_,
    )
