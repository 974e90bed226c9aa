"""When a failed delivery is tried again: exponential backoff with jitter, or later
when the receiver asks (``Retry-After``, capped so a hostile receiver cannot park a
notice for ever)."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True, slots=True)
class Backoff:
    """Attempt ``n`` (1-based) failed: wait between half and all of
    ``base_s * 2**(n-1)``, at most ``cap_s``; after ``max_attempts`` the notice is dead."""

    base_s: float = 5.0
    cap_s: float = 1800.0
    max_attempts: int = 12
    retry_after_cap_s: float = 3600.0

    def delay(self, attempt: int, retry_after_s: float | None, rng: random.Random) -> float:
        """Seconds until the next attempt after attempt ``attempt`` failed."""
        ceiling = min(self.cap_s, self.base_s * 2 ** (attempt - 1))
        jittered = rng.uniform(ceiling / 2, ceiling)
        if retry_after_s is None:
            return jittered
        return max(jittered, min(retry_after_s, self.retry_after_cap_s))

    def exhausted(self, attempt: int) -> bool:
        """Whether attempt ``attempt`` was the last one."""
        return attempt >= self.max_attempts
