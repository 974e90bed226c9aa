"""Engine worker process: one pjsua2 endpoint carrying at most four live calls.

Threading model (DESIGN.md): ``uaConfig.threadCnt = 0`` and the process's main
thread polls ``libHandleEvents``, so every pjsua2 call and callback happens on
the one thread that created the library; ``medConfig.threadCnt = 1`` keeps the
media clock on its own C thread. Calls are driven by a small per-call state
machine advanced from the poll loop, never from inside a callback, so no Call
is deleted inside its own callback and all are gone before ``libDestroy``.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pjsua2 as pj

from probes.sip.heard import Heard
from probes.sip.spec import Answer, CallSpec, RawCall, Registration, StreamCounters

log = logging.getLogger(__name__)

MAX_CALLS = 4
"""The wheel's compiled PJSUA_MAX_CALLS: more calls need more processes."""

HANGUP_GRACE_S = 3.0
"""How long to wait for a BYE to complete before giving up on the dialog."""

CANCEL_GRACE_S = 40.0
"""A call hung up before any 1xx can only be CANCELled once one arrives, else it
ends with PJSIP's 32 s transaction timeout: its result is reported at once, but its
slot stays taken until then."""


@dataclass(frozen=True, kw_only=True, slots=True)
class WorkerConfig:
    """Ports and addresses of one worker; each worker needs its own."""

    index: int
    bind_host: str
    sip_port: int
    rtp_port: int
    rtp_port_range: int = 200
    clock_rate: int = 16000
    log_level: int = 1


@dataclass(kw_only=True)
class _Job:
    """Mutable state of one call inside the worker (callbacks write, the loop reads)."""

    job_id: int
    spec: CallSpec
    created: float = field(default_factory=time.monotonic)
    phase: str = "new"
    account: Any = None
    call: Any = None
    player: Any = None
    recorder: Any = None
    reg_sent_at: float | None = None
    reg_status: int | None = None
    reg_at: float | None = None
    invite_at: float | None = None
    early_at: float | None = None
    confirmed_at: float | None = None
    hangup_at: float | None = None
    released_at: float | None = None
    disconnected: bool = False
    status: int | None = None
    reason: str | None = None
    timed_out: bool = False
    error: str | None = None
    stream: StreamCounters | None = None
    heard: Heard = field(default_factory=Heard)
    media_status: int | None = None
    redirect_loop: bool = False
    reported: bool = False
    slot: int = 0


FINALIZE_TIMEOUT_S = 2.0
"""Longest wait for the recorder's WAV header after the call is torn down."""


def endpoint_config(user_agent: str, clock_rate: int, log_level: int) -> Any:
    """pjsua2 settings for a process whose one thread polls the endpoint (no SIP worker
    threads, one media thread), without VAD or echo cancelling: the endpoint hears
    exactly what arrived."""
    cfg = pj.EpConfig()
    cfg.uaConfig.threadCnt = 0
    cfg.uaConfig.mainThreadOnly = False
    cfg.uaConfig.maxCalls = MAX_CALLS
    cfg.uaConfig.userAgent = user_agent
    cfg.medConfig.threadCnt = 1
    cfg.medConfig.clockRate = clock_rate
    cfg.medConfig.noVad = True
    cfg.medConfig.ecTailLen = 0
    cfg.logConfig.level = cfg.logConfig.consoleLevel = log_level
    return cfg


def wav_complete(path: Path) -> bool:
    """True once a RIFF file's size field matches the file: its writer has closed it."""
    try:
        with open(path, "rb") as fh:
            header = fh.read(8)
        size = path.stat().st_size
    except OSError:
        return False
    return (
        len(header) == 8
        and header[:4] == b"RIFF"
        and int.from_bytes(header[4:], "little") == size - 8
    )


NO_FREE_SLOT = (
    "engine worker has no free call slot (a call to an unresponsive target "
    "holds its slot until PJSIP gives up, up to 32 s)"
)


class _Account(pj.Account):  # type: ignore[misc]
    def __init__(self, job: _Job) -> None:
        super().__init__()
        self.job = job

    def onRegState(self, prm: Any) -> None:
        job = self.job
        if job.reg_status is None and int(prm.code) // 100 != 1:
            job.reg_status = int(prm.code)
            job.reg_at = time.monotonic()


class _Call(pj.Call):  # type: ignore[misc]
    def __init__(self, account: _Account, job: _Job) -> None:
        super().__init__(account)
        self.job = job

    def onCallTsxState(self, prm: Any) -> None:
        _hear(self.job, prm.e)

    def onCallState(self, prm: Any) -> None:
        _hear(self.job, prm.e)
        info = self.getInfo()
        now = time.monotonic()
        job = self.job
        if info.state == pj.PJSIP_INV_STATE_EARLY and job.early_at is None:
            job.early_at = now
        elif info.state == pj.PJSIP_INV_STATE_CONFIRMED and job.confirmed_at is None:
            job.confirmed_at = now
            job.status, job.reason = int(info.lastStatusCode), str(info.lastReason)
        elif info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            job.disconnected = True
            if job.confirmed_at is None and not job.timed_out:
                job.status, job.reason = int(info.lastStatusCode), str(info.lastReason)

    def onCallRedirected(self, prm: Any) -> int:
        """Follow a 3xx only when the spec allows another hop and the target is new."""
        job = self.job
        _hear(job, prm.e)  # the 3xx itself: it comes here before any state callback
        # pjsua2 prints the target without its port: the Contact as received is exact.
        target = job.heard.redirect_to or str(prm.targetUri).strip("<>")
        if job.spec.max_redirects == 0:
            return int(pj.PJSIP_REDIRECT_STOP)
        if target in (job.spec.uri, *job.heard.redirects):
            job.redirect_loop = True
            return int(pj.PJSIP_REDIRECT_STOP)
        if len(job.heard.redirects) >= job.spec.max_redirects:
            return int(pj.PJSIP_REDIRECT_STOP)
        job.heard.redirects.append(target)
        return int(pj.PJSIP_REDIRECT_ACCEPT)

    def onCallMediaState(self, prm: Any) -> None:
        info = self.getInfo()
        for media in info.media:
            if media.type == pj.PJMEDIA_TYPE_AUDIO:
                self.job.media_status = int(media.status)
                if media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                    _connect_audio(self.job, self.getAudioMedia(media.index))

    def onStreamDestroyed(self, prm: Any) -> None:
        """A stream the far end ended: its counters, read while it still exists."""
        if self.job.stream is None:
            self.job.stream = read_stream(self, int(prm.streamIdx))


def _hear(job: _Job, event: Any) -> None:
    if event.type == pj.PJSIP_EVENT_TSX_STATE:
        tsx = event.body.tsxState
        if tsx.type == pj.PJSIP_EVENT_RX_MSG:
            job.heard.receive(str(tsx.src.rdata.wholeMsg), time.monotonic())


def _connect_audio(job: _Job, audio: Any) -> None:
    if job.player is not None:
        return
    job.player = pj.AudioMediaPlayer()
    job.player.createPlayer(str(job.spec.reference), pj.PJMEDIA_FILE_NO_LOOP)
    job.recorder = pj.AudioMediaRecorder()
    job.recorder.createRecorder(str(job.spec.record_to))
    job.player.startTransmit(audio)
    audio.startTransmit(job.recorder)


class Worker:
    """The pjsua2 endpoint and the calls it carries; driven by :meth:`poll`."""

    def __init__(self, config: WorkerConfig) -> None:
        self.config = config
        self.jobs: dict[int, _Job] = {}
        self.finished: list[tuple[int, RawCall]] = []
        self.ep = pj.Endpoint()
        self.ep.libCreate()
        self.ep.libInit(self._ep_config())
        for kind in (pj.PJSIP_TRANSPORT_UDP, pj.PJSIP_TRANSPORT_TCP):
            self.ep.transportCreate(kind, self._transport_config(config.sip_port))
        self.ep.libStart()
        self.ep.audDevManager().setNullDev()
        self.codecs = {c.codecId.split("/")[0].upper(): c.codecId for c in self.ep.codecEnum2()}

    def _ep_config(self) -> Any:
        return endpoint_config("callprobe", self.config.clock_rate, self.config.log_level)

    def _transport_config(self, port: int) -> Any:
        tc = pj.TransportConfig()
        tc.port = port
        tc.boundAddress = self.config.bind_host
        return tc

    def submit(self, job_id: int, spec: CallSpec) -> None:
        """Start a call; its RawCall appears in :attr:`finished` when done."""
        if len(self.jobs) >= MAX_CALLS:
            self._report(_Job(job_id=job_id, spec=spec, error=NO_FREE_SLOT), recorded=False)
            return
        taken = {j.slot for j in self.jobs.values()}
        job = _Job(job_id=job_id, spec=spec, slot=min(set(range(MAX_CALLS)) - taken))
        self.jobs[job_id] = job
        try:
            self._start(job)
        except pj.Error as exc:
            self._refused(job, exc)

    def _start(self, job: _Job) -> None:
        job.account = _Account(job)
        job.account.create(self._account_config(job.spec.registration, job.slot))
        if job.spec.registration is None:
            self._dial(job)
        else:
            job.reg_sent_at = time.monotonic()
            job.phase = "registering"

    def _account_config(self, reg: Registration | None, slot: int) -> Any:
        cfg = pj.AccountConfig()
        host = self.config.bind_host or "127.0.0.1"
        cfg.idUri = f"sip:callprobe@{host}:{self.config.sip_port}"
        media = cfg.mediaConfig.transportConfig
        # Each call slot gets its own share of the range, so concurrent calls do
        # not all start their port search at the same (taken) port.
        share = self.config.rtp_port_range // MAX_CALLS
        media.port = self.config.rtp_port + slot * share
        media.portRange = share
        media.boundAddress = self.config.bind_host
        if reg is not None:
            cfg.idUri = f"sip:{reg.username}@{reg.registrar.removeprefix('sip:')}"
            cfg.regConfig.registrarUri = reg.registrar
            cfg.regConfig.timeoutSec = 300
            cfg.sipConfig.authCreds.append(
                pj.AuthCredInfo("digest", reg.realm, reg.username, 0, reg.password)
            )
        return cfg

    def _dial(self, job: _Job) -> None:
        self._prefer_codec(job.spec.codec)
        job.call = _Call(job.account, job)
        job.invite_at = time.monotonic()
        job.phase = "calling"
        job.call.makeCall(job.spec.uri, pj.CallOpParam(True))

    def _prefer_codec(self, codec: str) -> None:
        """Offer only ``codec``: priorities are global, and the offer is built in makeCall."""
        for name, codec_id in self.codecs.items():
            self.ep.codecSetPriority(codec_id, 255 if name == codec.upper() else 0)

    def poll(self, timeout_ms: int = 10) -> None:
        """Handle SIP events for up to ``timeout_ms`` and advance every call."""
        self.ep.libHandleEvents(timeout_ms)
        now = time.monotonic()
        for job in list(self.jobs.values()):
            self._advance(job, now)

    def _advance(self, job: _Job, now: float) -> None:
        step = {
            "registering": self._step_registering,
            "calling": self._step_calling,
            "talking": self._step_talking,
            "hanging_up": self._step_hanging_up,
            "finalizing": self._step_finalizing,
        }[job.phase]
        step(job, now)

    def _step_registering(self, job: _Job, now: float) -> None:
        reg = job.spec.registration
        assert reg is not None and job.reg_sent_at is not None
        if job.reg_status is not None:
            if job.reg_status // 100 == 2:
                self._try_dial(job)
            else:
                self._release(job)
        elif now - job.reg_sent_at > reg.timeout_s:
            job.error = f"no answer to REGISTER within {reg.timeout_s:g} s"
            job.reg_status = 408
            self._release(job)

    def _try_dial(self, job: _Job) -> None:
        try:
            self._dial(job)
        except pj.Error as exc:
            self._refused(job, exc)

    def _refused(self, job: _Job, exc: Any) -> None:
        job.error = f"pjsua2 refused the call: {exc.info(False).strip()}"
        self._release(job)

    def _step_calling(self, job: _Job, now: float) -> None:
        assert job.invite_at is not None
        if job.disconnected:
            self._release(job)
        elif job.confirmed_at is not None:
            job.phase = "talking"
        elif now - job.invite_at > job.spec.setup_timeout_s:
            job.timed_out = True
            self._hangup(job, now)
            self._report(job, recorded=False)

    def _step_talking(self, job: _Job, now: float) -> None:
        assert job.confirmed_at is not None
        if job.disconnected:
            self._release(job)
        elif job.media_status is not None and not _media_usable(job):
            # The answer left no usable audio: measure the empty stream and end the
            # call now rather than hold a dead line for the talk time.
            job.stream = read_stream(job.call, 0)
            self._hangup(job, now)
        elif now - job.confirmed_at >= job.spec.talk_s:
            job.stream = read_stream(job.call, 0)
            self._hangup(job, now)

    def _step_hanging_up(self, job: _Job, now: float) -> None:
        assert job.hangup_at is not None
        grace = CANCEL_GRACE_S if job.timed_out else HANGUP_GRACE_S
        if job.disconnected or now - job.hangup_at > grace:
            self._release(job)

    def _hangup(self, job: _Job, now: float) -> None:
        job.hangup_at = now
        job.phase = "hanging_up"
        try:
            job.call.hangup(pj.CallOpParam(True))
        except pj.Error as exc:
            log.info("hangup failed", extra={"job": job.job_id, "error": exc.info(False)})
            job.disconnected = True

    def _release(self, job: _Job) -> None:
        """Tear down a finished call's objects (outside any callback), then report it.

        PJSIP 2.14+ removes conference ports asynchronously on the media clock, so
        the recorder's WAV header is written a few frames after we drop it: the
        report waits (phase ``finalizing``) until the file is complete.
        """
        recorded = job.recorder is not None
        job.player = job.recorder = None
        job.call = None
        if job.account is not None:
            job.account.shutdown()
            job.account = None
        gc.collect()
        if recorded:
            job.phase, job.released_at = "finalizing", time.monotonic()
        else:
            self._forget(job, recorded=False)

    def _step_finalizing(self, job: _Job, now: float) -> None:
        assert job.released_at is not None
        if wav_complete(job.spec.record_to) or now - job.released_at > FINALIZE_TIMEOUT_S:
            self._forget(job, recorded=True)

    def _forget(self, job: _Job, recorded: bool) -> None:
        del self.jobs[job.job_id]
        self._report(job, recorded)

    def _report(self, job: _Job, recorded: bool) -> None:
        if not job.reported:
            job.reported = True
            self.finished.append((job.job_id, _raw_call(job, recorded)))

    def shutdown(self) -> None:
        """Hang up everything, drop every pjsua2 object, destroy the library."""
        for job in list(self.jobs.values()):
            if job.call is not None and not job.disconnected:
                self._hangup(job, time.monotonic())
        deadline = time.monotonic() + HANGUP_GRACE_S
        while any(not j.timed_out for j in self.jobs.values()) and time.monotonic() < deadline:
            self.poll()
        for job in list(self.jobs.values()):
            self._release(job)
        gc.collect()
        self.ep.libDestroy()


def read_stream(call: Any, index: int) -> StreamCounters | None:
    """RTP/RTCP/jitter-buffer counters of a live stream (before hangup, or as it ends)."""
    try:
        stat = call.getStreamStat(index)
        info = call.getStreamInfo(index)
    except pj.Error:
        return None
    rx, tx, rtt, jb = stat.rtcp.rxStat, stat.rtcp.txStat, stat.rtcp.rttUsec, stat.jbuf
    got_rr = rtt.n > 0
    return StreamCounters(
        codec=str(info.codecName),
        rx_packets=int(rx.pkt),
        rx_lost=int(rx.loss),
        rx_jitter_mean_us=float(rx.jitterUsec.mean),
        rx_jitter_max_us=float(rx.jitterUsec.max),
        tx_packets=int(tx.pkt),
        tx_lost=int(tx.loss) if got_rr else None,
        rtt_mean_us=float(rtt.mean) if got_rr else None,
        jb_discards=int(jb.discard),
        jb_empty=int(jb.empty),
        jb_avg_delay_ms=float(jb.avgDelayMsec),
    )


def _ms(start: float | None, end: float | None) -> float | None:
    return None if start is None or end is None else round((end - start) * 1000.0, 3)


def _media_usable(job: _Job) -> bool:
    """Audio can flow at least one way (held media still counts: it is measured)."""
    return job.media_status in (
        pj.PJSUA_CALL_MEDIA_ACTIVE,
        pj.PJSUA_CALL_MEDIA_REMOTE_HOLD,
        pj.PJSUA_CALL_MEDIA_LOCAL_HOLD,
    )


def _raw_call(job: _Job, recorded: bool) -> RawCall:
    talk = None
    ended = job.hangup_at or job.heard.bye_at
    if job.confirmed_at is not None and ended is not None:
        talk = round(ended - job.confirmed_at, 3)
    error = job.error
    if job.reg_status is not None and job.reg_status // 100 != 2:
        error = error or f"REGISTER refused with {job.reg_status}"
    heard = job.heard
    return RawCall(
        sip_status=None if job.timed_out else heard.final_status,
        sip_reason=None if job.timed_out else heard.final_reason,
        local_status=job.status,
        local_reason=job.reason,
        provisional_status=heard.provisional,
        register_status=job.reg_status,
        register_ms=_ms(job.reg_sent_at, job.reg_at),
        pdd_ms=_ms(job.invite_at, job.early_at),
        setup_ms=_ms(job.invite_at, job.confirmed_at),
        talk_s=talk,
        timed_out=job.timed_out,
        error=error,
        stream=job.stream,
        recording=job.spec.record_to if recorded and Path(job.spec.record_to).exists() else None,
        answer=None if heard.answer_sdp is None else Answer.of(heard.answer_sdp),
        media_active=_media_usable(job),
        redirect_to=heard.redirect_to,
        redirects=tuple(heard.redirects),
        redirect_loop=job.redirect_loop,
        far_end_bye=heard.bye_at is not None,
        dropped_after_ms=_dropped_after(job),
        end_reason=heard.bye_reason,
    )


def _dropped_after(job: _Job) -> float | None:
    """ms from the answer to the far end's BYE, when it came before we hung up."""
    bye = job.heard.bye_at
    if bye is None or job.confirmed_at is None or job.hangup_at is not None:
        return None
    return _ms(job.confirmed_at, bye)


def serve(conn: Connection, config: WorkerConfig) -> None:
    """Run calls sent over ``conn`` until told to stop."""
    logging.basicConfig(level=logging.WARNING)
    # pjlib logs its start-up to fd 1 before our log level applies, and stdout
    # belongs to the CLI: silence fd 1 during start-up, then send it to stderr.
    with open(os.devnull, "wb") as devnull:
        os.dup2(devnull.fileno(), 1)
        worker = Worker(config)
    os.dup2(2, 1)
    conn.send(("ready", config.index, None))
    try:
        _loop(conn, worker)
    finally:
        worker.shutdown()
        conn.close()


IDLE_WAIT_S = 0.05
"""With no call up, wait on the command pipe and poll pjsua2 only 20 times a second:
32 idle workers polling every 10 ms took over half a core from live calls."""


def _loop(conn: Connection, worker: Worker) -> None:
    while True:
        if not worker.jobs:
            conn.poll(IDLE_WAIT_S)
        worker.poll(10 if worker.jobs else 0)
        while worker.finished:
            conn.send(("done", *worker.finished.pop(0)))
        while conn.poll():
            message = conn.recv()
            if message[0] == "stop":
                return
            worker.submit(message[1], message[2])


def main(argv: list[str]) -> None:
    """``python -m probes.sip.worker FD``: FD is this worker's end of a socket pair."""
    conn = Connection(int(argv[1]))
    serve(conn, conn.recv())


if __name__ == "__main__":
    main(sys.argv)
