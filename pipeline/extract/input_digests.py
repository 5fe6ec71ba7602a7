"""Digests of input files already hashed, reused while the file system says the file is
the same one.

``bulk --update`` checks that every PubMed file the current snapshot lists is still the
one it read (size and sha256). Hashing a whole baseline, some 1,300 files and tens of
gigabytes, every night would cost more than the night's update itself. As git's index
does, a digest is reused while the file's device, inode, size, modification time and
change time are all what they were when it was hashed: the kernel sets the change time
on any write or metadata change, and no user can set it back, so a file written since
is hashed again. The change time is kept in coarse clock ticks, so a file changed twice
within one tick could keep it: as git does with its "racy" entries, a digest is cached
only for a file whose last change was ``RACY_SECONDS`` before it was hashed (a file
written just before is hashed again next time). ``--verify-inputs`` hashes every file
whatever the cache says.

The cache is one JSON file (``<out>/.input-digests.json``, see pipeline/load/layout.py),
written whole and renamed into place under the output lock. It is only a cache: a
missing or unreadable one is started afresh.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.extract.bulk_files import file_digest

log = logging.getLogger(__name__)

_FORMAT = 1
RACY_SECONDS = 2.0


def _identity(stat: os.stat_result) -> list[int]:
    return [stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns]


@dataclass
class InputDigests:
    """(bytes, sha256) of input files, hashed once while they stay the same file."""

    cache: Path
    verify: bool = False  # hash every file, whatever is cached
    racy_seconds: float = RACY_SECONDS
    known: dict[str, dict[str, object]] = field(default_factory=dict)
    hashed: int = 0  # files read in full by this run
    changed: bool = False

    @classmethod
    def load(
        cls, cache: Path, *, verify: bool = False, racy_seconds: float = RACY_SECONDS
    ) -> InputDigests:
        digests = cls(cache, verify, racy_seconds)
        try:
            data = json.loads(cache.read_text("utf-8"))
            if data.get("format") == _FORMAT and isinstance(data.get("files"), dict):
                digests.known = data["files"]
        except FileNotFoundError:
            pass
        except (OSError, ValueError, AttributeError) as exc:
            log.warning("%s is unreadable (%s): every input file is hashed again", cache, exc)
        return digests

    def digest(self, path: Path) -> tuple[int, str]:
        """(bytes, sha256) of ``path``: from the cache while it is the same file, else read."""
        key = str(path.resolve())
        before = path.stat()
        entry = self.known.get(key)
        if not self.verify and entry is not None and entry.get("stat") == _identity(before):
            sha256 = entry.get("sha256")
            if isinstance(sha256, str):
                return before.st_size, sha256
        size, sha256 = file_digest(path)
        self.hashed += 1
        after = path.stat()
        settled = time.time_ns() - after.st_ctime_ns >= self.racy_seconds * 1e9
        if settled and _identity(after) == _identity(before) and size == after.st_size:
            # Not cached when changed meanwhile or just before: the next run reads it again.
            self.known[key] = {"stat": _identity(after), "sha256": sha256}
            self.changed = True
        return size, sha256

    def save(self) -> None:
        """Write the cache, if this run added to it; call while holding the output lock."""
        if not self.changed:
            return
        tmp = self.cache.with_name(f"{self.cache.name}.{os.getpid()}.tmp")
        try:
            self.cache.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps({"format": _FORMAT, "files": self.known}), "utf-8")
            os.replace(tmp, self.cache)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            log.warning(
                "cannot write %s (%s): the next run hashes its inputs again", self.cache, exc
            )
