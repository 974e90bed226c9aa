"""``callprobe serve``'s shutdown: drain, then stop.

On the first SIGTERM (or SIGINT) the app is marked draining, so ``/readyz`` answers 503
at once while the server keeps serving for ``shutdown_delay_s`` (time for a load
balancer to notice and send no more); then uvicorn's own graceful shutdown runs: stop
accepting, let in-flight requests finish within ``timeout_graceful_shutdown``, then the
lifespan's end, where the background loops finish their current pass and stop. A
second signal skips what is left of the delay.
"""

from __future__ import annotations

import signal
import time
from types import FrameType

import uvicorn

from api.state import AppState


class DrainingServer(uvicorn.Server):
    """A uvicorn server that says it is draining before it stops."""

    def __init__(self, config: uvicorn.Config, state: AppState, delay_s: float) -> None:
        super().__init__(config)
        self.state = state
        self.delay_s = delay_s
        self._exit_at: float | None = None
        self._signal: int = signal.SIGTERM

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """Signal handler: mark draining; exit now, or once the delay is over if this is
        the first signal."""
        first = not self.state.draining
        self.state.draining = True
        if first and self.delay_s > 0:
            self._signal = sig
            self._exit_at = time.monotonic() + self.delay_s
            return
        self._exit_at = None
        super().handle_exit(sig, frame)

    async def on_tick(self, counter: int) -> bool:
        """Uvicorn's tick (every 0.1 s): start the shutdown when the delay is over."""
        if self._exit_at is not None and time.monotonic() >= self._exit_at:
            self._exit_at = None
            super().handle_exit(self._signal, None)
        return await super().on_tick(counter)
