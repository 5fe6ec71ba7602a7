"""A process-wide request limiter, taken before every attempt (retries included)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

# Spacing is this much wider than 1/rate: with exact spacing, request rate+1
# lands on the closing edge of a one-second window, and any jitter between our
# clock and the server's pushes it inside. (Biopython uses 0.37 s for 3/s.)
SAFETY = 1.1


class RateLimiter:
    """Spaces calls at least ``SAFETY/rate`` seconds apart, across threads.

    NCBI counts requests per second; spacing them evenly (rather than a bucket
    that allows bursts) keeps any one-second window at or under ``rate``.
    """

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.interval = SAFETY / rate
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = float("-inf")

    def acquire(self) -> None:
        with self._lock:
            now = self._clock()
            wait = self._next - now
            if wait > 0:
                self._sleep(wait)
                now = self._next
            self._next = now + self.interval
