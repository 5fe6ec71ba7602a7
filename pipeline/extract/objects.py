"""Bodies stored once by content: ``objects/<sha256>``, zstd-compressed.

An object is named by the sha256 of the body exactly as NCBI sent it, so the
same body fetched on many nights is one file, and an object whose content
does not hash to its name was damaged after it was written (corrupt). The
frame carries the body's size and a checksum, so most damage is found before
the hash is even computed.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

import zstandard

from pipeline.errors import RawStoreCorruptError, RawStoreError

# Pinned so that the same body always makes the same object file (the shipped demo
# store is re-recorded byte for byte); 10 packs XML about 8x at tens of MB/s.
ZSTD_LEVEL = 10
SHA256 = re.compile(r"[0-9a-f]{64}")
# The temporary names atomic_write gives an object (".<sha256>." + mkstemp's part + ".tmp").
OBJECT_TEMP = re.compile(r"\.[0-9a-f]{64}\.[A-Za-z0-9_]+\.tmp")


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def compress(body: bytes) -> bytes:
    return zstandard.ZstdCompressor(
        level=ZSTD_LEVEL, write_checksum=True, write_content_size=True
    ).compress(body)


def decompress(data: bytes) -> bytes:
    return zstandard.ZstdDecompressor().decompress(data)


class ObjectStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / sha256

    def read(self, sha256: str, *, what: str) -> bytes | None:
        """The body named ``sha256`` (None if there is no such object); ``what`` says
        which request it answers, for the message if it is corrupt."""
        path = self.path(sha256)
        try:
            body = decompress(path.read_bytes())
        except FileNotFoundError:
            return None
        except zstandard.ZstdError as exc:
            raise _corrupt(path, what, f"it does not decompress ({exc})") from exc
        except OSError as exc:
            raise RawStoreError(f"raw store object {path} is unreadable: {exc}") from exc
        digest = hashlib.sha256(body).hexdigest()
        if digest != sha256:
            raise _corrupt(
                path, what, f"{len(body)} bytes with sha256 {digest[:12]}..., not its name"
            )
        return body

    def write(self, sha256: str, body: bytes) -> bool:
        """Store ``body`` unless a sound object is there already; True if written.
        A damaged object is written whole anew. Raises OSError."""
        path = self.path(sha256)
        try:
            if hashlib.sha256(decompress(path.read_bytes())).hexdigest() == sha256:
                return False
        except (FileNotFoundError, zstandard.ZstdError):
            pass  # absent, or damaged
        atomic_write(path, compress(body))
        return True

    def sizes(self) -> dict[str, int]:
        """Every object: sha256 -> bytes on disk."""
        try:
            with os.scandir(self.root) as it:
                entries = list(it)
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise RawStoreError(f"cannot read raw store {self.root}: {exc.strerror}") from exc
        return {
            e.name: e.stat(follow_symlinks=False).st_size
            for e in entries
            if SHA256.fullmatch(e.name) and e.is_file(follow_symlinks=False)
        }

    def remove(
        self, digests: Iterable[str], *, older_than: float = 0.0, dry_run: bool = False
    ) -> dict[str, int]:
        """Remove these objects but those written in the last ``older_than``
        seconds; what was removed (``dry_run``: would be): sha256 -> bytes."""
        removed: dict[str, int] = {}
        cutoff = time.time() - older_than
        for digest in sorted(digests):
            path = self.path(digest)
            try:
                info = path.lstat()
                if info.st_mtime > cutoff:
                    continue
                if not dry_run:
                    path.unlink()
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise RawStoreError(f"cannot remove {path}: {exc.strerror}") from exc
            removed[digest] = info.st_size
        return removed


def _corrupt(path: Path, what: str, why: str) -> RawStoreCorruptError:
    return RawStoreCorruptError(
        f"raw store entry {path} ({what}) is corrupt: {why}", path=str(path)
    )
