"""The reflector: a pjsua2 UAS that answers and echoes audio or plays a prompt.

Users deploy it next to their PBX as the far end of test calls; our tests use it
as a peer that, unlike SIPp, sends RTCP (so RTT is measurable). Its bridge runs
at 16 kHz (for G.722), so narrowband audio is resampled and its clean score sits
a little below SIPp's bit-exact echo. Same threading model as the engine worker:
one thread polls pjsua2.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pjsua2 as pj

from probes.sip.worker import MAX_CALLS, endpoint_config

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True, slots=True)
class ReflectorConfig:
    """Where the reflector listens and what it sends back."""

    host: str = "127.0.0.1"
    port: int = 5080
    rtp_port: int = 30000
    prompt: Path | None = None
    ring_ms: int = 100
    max_talk_s: float = 600.0
    log_level: int = 1


class _Answering(pj.Call):  # type: ignore[misc]
    def __init__(self, reflector: Reflector, account: Any, call_id: int) -> None:
        super().__init__(account, call_id)
        self.reflector = reflector
        self.player: Any = None
        self.ringing_at = time.monotonic()
        self.answered_at: float | None = None
        self.ended = False

    def onCallState(self, prm: Any) -> None:
        if self.getInfo().state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.ended = True

    def onCallMediaState(self, prm: Any) -> None:
        info = self.getInfo()  # keep it alive: media items point into it
        for media in info.media:
            if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                self._reflect(self.getAudioMedia(media.index))

    def _reflect(self, audio: Any) -> None:
        prompt = self.reflector.config.prompt
        if prompt is None:
            # Measured here: a bridge port that only transmits to itself is never
            # read, so the echo is silent; a second listener (the null playback
            # device) makes the bridge pull its audio.
            audio.startTransmit(audio)
            audio.startTransmit(pj.Endpoint.instance().audDevManager().getPlaybackDevMedia())
        elif self.player is None:
            self.player = pj.AudioMediaPlayer()
            self.player.createPlayer(str(prompt))
            self.player.startTransmit(audio)


class _Account(pj.Account):  # type: ignore[misc]
    def __init__(self, reflector: Reflector) -> None:
        super().__init__()
        self.reflector = reflector

    def onIncomingCall(self, prm: Any) -> None:
        call = _Answering(self.reflector, self, prm.callId)
        busy = len(self.reflector.calls) >= MAX_CALLS
        call.answer(_status(486 if busy else 180))
        if busy:
            call.ended = True
        self.reflector.calls.append(call)


def _status(code: int) -> Any:
    prm = pj.CallOpParam(True)
    prm.statusCode = code
    return prm


class Reflector:
    """Run with :meth:`serve` until ``stop`` is set; at most four calls at once."""

    def __init__(self, config: ReflectorConfig) -> None:
        self.config = config
        self.calls: list[_Answering] = []
        self.answered = 0
        self.ep = pj.Endpoint()
        self.ep.libCreate()
        self.ep.libInit(self._ep_config())
        for kind in (pj.PJSIP_TRANSPORT_UDP, pj.PJSIP_TRANSPORT_TCP):
            tc = pj.TransportConfig()
            tc.port, tc.boundAddress = config.port, config.host
            self.ep.transportCreate(kind, tc)
        self.ep.libStart()
        devices = self.ep.audDevManager()
        devices.setNullDev()
        # Keep the (null) sound device, the bridge's clock, running from the start:
        # opened on demand, it started during a call's first frames and cost that
        # call a jitter-buffer underrun (measured on the first call after start).
        devices.getCaptureDevMedia().startTransmit(devices.getPlaybackDevMedia())
        self.account = _Account(self)
        self.account.create(self._account_config())

    def _ep_config(self) -> Any:
        cfg = endpoint_config("callprobe-reflector", 16000, self.config.log_level)
        cfg.medConfig.sndAutoCloseTime = -1
        _never_discard(cfg.medConfig)
        return cfg

    def _account_config(self) -> Any:
        cfg = pj.AccountConfig()
        cfg.idUri = f"sip:reflector@{self.config.host}:{self.config.port}"
        media = cfg.mediaConfig.transportConfig
        media.port, media.portRange, media.boundAddress = (
            self.config.rtp_port,
            200,
            self.config.host,
        )
        return cfg

    def serve(self, stop: threading.Event) -> None:
        """Poll pjsua2 and answer calls until ``stop`` is set, then clean up."""
        try:
            while not stop.is_set():
                self.ep.libHandleEvents(10)
                self._tend(time.monotonic())
        finally:
            self._close()

    def _tend(self, now: float) -> None:
        for call in list(self.calls):
            if call.ended:
                self.calls.remove(call)
                call.player = None
                gc.collect()
            elif call.answered_at is None and now - call.ringing_at >= self.config.ring_ms / 1000:
                call.answered_at = now
                self.answered += 1
                call.answer(_status(200))
            elif call.answered_at is not None and now - call.answered_at > self.config.max_talk_s:
                call.hangup(pj.CallOpParam(True))

    def _close(self) -> None:
        self.ep.hangupAllCalls()
        deadline = time.monotonic() + 2.0
        while self.calls and time.monotonic() < deadline:
            self.ep.libHandleEvents(10)
            self._tend(time.monotonic())
        self.calls.clear()
        self.account.shutdown()
        del self.account
        gc.collect()
        self.ep.libDestroy()


PJMEDIA_JB_DISCARD_NONE = 0


def _never_discard(media: Any) -> None:
    """Make the jitter buffer grow when it must, but never drop frames to shrink.

    Measured here: the reflector's bridge clock and a caller's packet clock run
    at the same rate with a phase fixed for the call. When the phases nearly
    coincide, the adaptive jitter buffer underruns now and then and its
    progressive discard later removes 10 ms frames to shrink again; each step
    moves the echo in time: 11 of 99 calls on a clean loopback path scored
    3.70-4.12. Without discards: 4.244 on 63 of 66 calls. A reflector gains
    nothing from low latency, and RTT comes from RTCP, not the audio.

    The binding exposes ``jbDiscardAlgo`` only as an opaque pointer to a copy of
    the C enum, so the value is written through that pointer (ctypes) and the
    copy assigned back.
    """
    algo = media.jbDiscardAlgo
    ctypes.c_int.from_address(int(algo)).value = PJMEDIA_JB_DISCARD_NONE
    media.jbDiscardAlgo = algo


@contextmanager
def _start_up_chatter_dropped() -> Iterator[None]:
    """Drops what the library prints to fd 1 while it starts: pjlib's start-up lines
    (written before our log level applies) and SWIG's note that the jitter-buffer enum
    pointer of :func:`_never_discard` has no destructor. Both go through C's stdio, so
    its buffers are flushed before fd 1 is given back."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "wb") as devnull:
        os.dup2(devnull.fileno(), 1)
    try:
        yield
    finally:
        ctypes.CDLL(None).fflush(None)
        os.dup2(saved, 1)
        os.close(saved)


def run(config: ReflectorConfig) -> None:
    """Blocking entry point for the CLI: serve until SIGINT/SIGTERM."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with _start_up_chatter_dropped():
        reflector = Reflector(config)
    log.info("reflector listening", extra={"host": config.host, "port": config.port})
    reflector.serve(stop)
