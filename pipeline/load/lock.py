"""One build at a time per output directory.

``<out>/.lock`` is held with ``flock``: the kernel releases it when its holder
exits, however it exits, so a killed run never blocks the next one. The file
also names its holder (pid, host, start time) for the message a second run
prints; a record left behind by a holder that is gone is a stale lock, taken
over with a warning. Readers need no lock: they only follow ``current``.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from pipeline.errors import LockError, SnapshotError

log = logging.getLogger(__name__)

LOCK_NAME = ".lock"
HOLDER_KEYS = frozenset({"pid", "host", "started"})


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def is_lock_record(path: Path) -> bool:
    """Empty (released) or a holder's record: all a lock file of ours ever holds."""
    with path.open("rb") as fh:
        data = fh.read(4096)
    if not data.strip():
        return True
    try:
        record = json.loads(data)
    except ValueError:
        return False
    return isinstance(record, dict) and set(record) <= HOLDER_KEYS


def _describe(holder: dict[str, Any]) -> str:
    return f"pid {holder.get('pid')} on {holder.get('host')} since {holder.get('started')}"


class OutputLock:
    def __init__(self, out_dir: Path, *, wait: bool = False, poll: float = 0.5) -> None:
        self.path = out_dir / LOCK_NAME
        self.wait = wait
        self.poll = poll
        self._fh: IO[str] | None = None

    def __enter__(self) -> OutputLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Never through a symbolic link: the record is truncated and rewritten.
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o666)
            fh = os.fdopen(fd, "r+", encoding="utf-8")
        except OSError as exc:
            raise SnapshotError(f"cannot open {self.path}: {exc.strerror}") from exc
        try:
            self._acquire(fh)
            self._take_over(fh)
        except BaseException:
            fh.close()
            raise
        self._fh = fh
        return self

    def _acquire(self, fh: IO[str]) -> None:
        announced = False
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                holder = self._holder(fh)
                if not self.wait:
                    raise LockError(
                        f"{self.path.parent} is in use by another build ({_describe(holder)}); "
                        "use --wait-lock to wait for it"
                    ) from None
                if not announced:
                    log.warning(
                        "waiting for the build holding %s (%s)", self.path, _describe(holder)
                    )
                    announced = True
                time.sleep(self.poll)

    @staticmethod
    def _holder(fh: IO[str]) -> dict[str, Any]:
        fh.seek(0)
        try:
            data = json.loads(fh.read() or "{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def _take_over(self, fh: IO[str]) -> None:
        previous = self._holder(fh)
        pid = previous.get("pid")
        if isinstance(pid, int):
            # A holder that released cleanly leaves the file empty: this one was killed.
            state = "is gone" if not _pid_alive(pid) else "did not release it"
            log.warning(
                "taking over a stale lock on %s: its holder (%s) %s",
                self.path.parent,
                _describe(previous),
                state,
            )
        me = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps(me))
        fh.flush()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        fh, self._fh = self._fh, None
        if fh is None:
            return
        try:
            fh.seek(0)
            fh.truncate()
            fh.flush()
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            fh.close()
