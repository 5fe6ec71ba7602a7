"""Request limiters, taken before every attempt (retries included).

NCBI counts requests per IP address (or per API key), not per process: two
builds on one machine, or a build beside a ``bulk --online``, must share one
budget. :class:`SharedRateLimiter` keeps the time of the last request sent to a
host in a small file and takes an ``flock`` on it around each acquire, so every
process of every user of that file spaces its requests after everyone else's.

Why a file and a lock rather than a bucket library (pyrate-limiter's SQLite
bucket was weighed): its buckets count requests per window, which allows a
burst of ``rate`` at once; strict spacing is what keeps every one-second window
under the limit. A lock held by a process that dies is released by the kernel,
so a killed build never blocks the next one, and one acquire costs a handful of
system calls (cheap at the hundreds per second a test or a mirror may allow).
"""

from __future__ import annotations

import fcntl
import logging
import math
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from pipeline.errors import ConfigError

log = logging.getLogger(__name__)

# Spacing is this much wider than 1/rate: with exact spacing, request rate+1
# lands on the closing edge of a one-second window, and any jitter between our
# clock and the server's pushes it inside. (Biopython uses 0.37 s for 3/s.)
SAFETY = 1.1
# The state file holds one number, written at a fixed width.
_WIDTH = 24


class Limiter(Protocol):
    interval: float

    def acquire(self) -> None: ...


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


def open_shared(rate: float, directory: Path, base_url: str, *, keyed: bool) -> SharedRateLimiter:
    """The shared limiter of one host, in ``directory``, or if that cannot be used
    (a read-only or missing home, as cron and containers have) in a per-user one
    under the system's temporary directory, with a warning: never no sharing."""
    try:
        return SharedRateLimiter(rate, bucket_file(directory, base_url, keyed=keyed))
    except ConfigError as exc:
        fallback = Path(tempfile.gettempdir()) / f"medgen-etl-{os.getuid()}"
        log.warning("%s; sharing the rate limit through %s instead", exc, fallback)
        return SharedRateLimiter(rate, bucket_file(fallback, base_url, keyed=keyed))


def bucket_file(directory: Path, base_url: str, *, keyed: bool) -> Path:
    """The state file for one E-utilities host, with or without an API key.

    NCBI's limit is per key when one is sent and per address when not, so a run
    with a key and one without do not share (and do not mistake) each other's limit.
    """
    parts = urlsplit(base_url)
    default = 443 if parts.scheme == "https" else 80
    host = re.sub(r"[^A-Za-z0-9.-]", "_", (parts.hostname or "localhost").lower())
    return directory / f"{host}-{parts.port or default}-{'key' if keyed else 'nokey'}.last"


class SharedRateLimiter(RateLimiter):
    """Spaces calls at least ``SAFETY/rate`` seconds apart across processes.

    The file holds the monotonic time (system-wide on Linux and macOS) of the
    last request any process sent. Each acquire locks it, waits out what is left
    of the interval, writes its own time and unlocks; the sleep happens under the
    lock, so waiters queue behind it instead of all waking at once. A stamp that
    is unreadable, or in the future (the machine rebooted), costs at most one
    interval's wait, never more; and whatever the file holds, this process keeps
    its own spacing too, so a damaged file can neither stop it nor speed it up.
    """

    def __init__(
        self,
        rate: float,
        path: Path,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        # The thread lock it inherits is still needed: flock does not order the
        # threads of one process, which share its open file.
        super().__init__(rate, clock=clock, sleep=sleep)
        self.path = path
        self._fd: int | None = None
        self._pid = 0
        self._open()  # fail now, with the path, not at the first request

    def _open(self) -> int:
        # A forked child shares its parent's open file, and so its lock: reopen.
        if self._fd is not None and self._pid == os.getpid():
            return self._fd
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise ConfigError(
                f"cannot open the shared rate-limit file {self.path}: {exc.strerror} "
                "(set ncbi.rate_limit_dir or XDG_CACHE_HOME to a writable directory)"
            ) from exc
        self._pid = os.getpid()
        return self._fd

    def acquire(self) -> None:
        with self._lock:
            fd = self._open()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                now = self._clock()
                # This process's own spacing is the floor, whatever the file says.
                wait = max(self._left_after(_read_stamp(fd), now), self._next - now)
                if wait > 0:
                    self._sleep(wait)
                    now = self._clock()
                self._next = now + self.interval
                os.pwrite(fd, f"{now:{_WIDTH - 1}.6f}\n".encode(), 0)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _left_after(self, last: float | None, now: float) -> float:
        """What is left of the interval since the last send in the file (at most one)."""
        if last is None:
            return 0.0
        return min(last + self.interval - now, self.interval)

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None and self._pid == os.getpid():
            os.close(fd)


def _read_stamp(fd: int) -> float | None:
    """The last send time in the file, or None if it holds none (new, or garbage)."""
    first_line = os.pread(fd, _WIDTH, 0).split(b"\n", 1)[0]
    try:
        stamp = float(first_line.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return None
    return stamp if math.isfinite(stamp) else None
