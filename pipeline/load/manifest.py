"""A snapshot's manifest, read as untrusted input, and the files it may name.

A manifest can be edited by anyone who can write the snapshot, so nothing in it
is followed blindly: every path it lists must be relative, normalized and
inside the snapshot, and is opened one directory at a time without following
a symbolic link, so neither ``../../etc/passwd`` nor a link placed in the
snapshot leads a reader out of it. Every malformed field is a VerifyError
naming it.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import posixpath
import re
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa

from pipeline.errors import NoSnapshotError, VerifyError
from pipeline.load.parquet import FileEntry, sha256_stream

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
# Manifest keys that depend on when the run happened, not on what it read.
VOLATILE_KEYS = ("snapshot_id", "created_at", "content_hash")
_SHA256 = re.compile(r"[0-9a-f]{64}")
# No control characters (NUL, newline ...) and no backslash in a listed path.
_BAD_CHARS = re.compile(r"[\x00-\x1f\x7f\\]")


def content_hash(manifest: Mapping[str, Any]) -> str:
    stable = {k: v for k, v in manifest.items() if k not in VOLATILE_KEYS}
    return hashlib.sha256(
        json.dumps(stable, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def path_problem(rel: object) -> str | None:
    """Why ``rel`` cannot name a file of a snapshot, or None if it can."""
    if not isinstance(rel, str) or not rel:
        return "is not a non-empty string"
    if _BAD_CHARS.search(rel):
        return "holds a control character or a backslash"
    if rel.startswith("/"):
        return "is an absolute path"
    if any(part in ("", ".", "..") for part in rel.split("/")) or posixpath.normpath(rel) != rel:
        return "is not a normalized path inside the snapshot"
    if rel == MANIFEST:
        return "names the manifest itself"
    return None


def open_inside(root: Path, rel: str) -> int:
    """A read-only descriptor of the regular file ``root/rel``.

    Each directory is opened relative to the one before with O_NOFOLLOW, so a
    symbolic link anywhere below ``root`` fails instead of being followed.
    ``rel`` must have passed ``path_problem``. Raises OSError (ELOOP for a link).
    """
    *dirs, name = rel.split("/")
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in dirs:
            inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = inner
        # O_NONBLOCK: opening a FIFO placed there must not wait for a writer.
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
        found = os.open(name, flags, dir_fd=fd)
    finally:
        os.close(fd)
    if not stat.S_ISREG(os.fstat(found).st_mode):
        os.close(found)
        raise OSError(errno.EINVAL, "not a regular file")
    return found


def describe_open_error(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "missing"
    if exc.errno in (errno.ELOOP, errno.ENOTDIR):
        return "a symbolic link or not inside a directory of the snapshot: not followed"
    return f"cannot be opened ({exc.strerror or exc})"


@contextmanager
def checked_file(root: Path, rel: str, want: FileEntry) -> Iterator[pa.NativeFile]:
    """``root/rel`` opened for pyarrow, its size and sha256 found to be the manifest's.

    The file is opened inside ``root`` only (``open_inside``) and its size
    compared before a byte is read; any difference is a VerifyError naming it.
    pyarrow then reads it natively (a Python file object handed to pyarrow's
    I/O threads can abort the interpreter at exit): by path, once the path is
    found to lead to the very file that was checked.
    """
    try:
        fd = open_inside(root, rel)
    except OSError as exc:
        raise VerifyError(f"{rel}: {describe_open_error(exc)}") from exc
    try:
        checked = os.fstat(fd)
        if checked.st_size != want.bytes:
            raise VerifyError(f"{rel}: {checked.st_size} bytes, manifest says {want.bytes}")
        with os.fdopen(os.dup(fd), "rb") as fh:
            digest = sha256_stream(fh)
        if digest != want.sha256:
            raise VerifyError(f"{rel}: sha256 {digest[:12]}…, manifest says {want.sha256[:12]}…")
        with pa.memory_map(str(root / rel)) as source:
            now = os.stat(root / rel)
            if (now.st_dev, now.st_ino) != (checked.st_dev, checked.st_ino):
                raise VerifyError(f"{rel}: replaced while it was being read")
            yield source
    except OSError as exc:
        raise VerifyError(f"{rel}: cannot be read ({exc.strerror or exc})") from exc
    finally:
        os.close(fd)


def read_manifest(snapshot: Path) -> dict[str, Any]:
    """The manifest of ``snapshot`` as a JSON object; its fields are not yet checked."""
    where = snapshot / MANIFEST
    if not snapshot.is_dir():
        raise NoSnapshotError(f"{snapshot} is not a directory: not a published snapshot")
    try:
        fd = open_inside(snapshot, MANIFEST)
    except FileNotFoundError as exc:
        raise NoSnapshotError(f"{snapshot} has no {MANIFEST}: not a published snapshot") from exc
    except OSError as exc:
        raise VerifyError(f"{where} is {describe_open_error(exc)}") from exc
    try:
        with os.fdopen(fd, "rb") as fh:
            data = json.loads(fh.read().decode("utf-8"))
    except (OSError, ValueError) as exc:
        raise VerifyError(f"{where} is unreadable: {exc}") from exc
    if not isinstance(data, dict):
        raise VerifyError(f"{where} is not a JSON object")
    return data


def manifest_files(snapshot: Path, manifest: Mapping[str, Any]) -> dict[str, FileEntry]:
    """The manifest's ``files``, every path and field checked before any file is opened."""
    where = snapshot / MANIFEST
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise VerifyError(f"{where}: 'files' is not an object (found {_kind(files)})")
    if not files:
        raise VerifyError(f"{where}: 'files' lists no file")
    entries: dict[str, FileEntry] = {}
    problems: list[str] = []
    for rel, want in files.items():
        problem = path_problem(rel)
        if problem is None:
            problem = _entry_problem(want)
        if problem is not None:
            problems.append(f"files entry {rel!r} {problem}")
            continue
        entries[rel] = FileEntry(want["rows"], want["bytes"], want["sha256"])
    if problems:
        raise VerifyError(f"{where}: " + "; ".join(problems))
    return entries


def _entry_problem(want: object) -> str | None:
    if not isinstance(want, dict):
        return f"is not an object (found {_kind(want)})"
    for key in ("rows", "bytes"):
        value = want.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            return f"has no whole number {key!r} (found {value!r:.40})"
    digest = want.get("sha256")
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
        return f"has no 64-hex 'sha256' (found {digest!r:.80})"
    return None


def check_content_hash(snapshot: Path, manifest: Mapping[str, Any]) -> None:
    if content_hash(manifest) != manifest.get("content_hash"):
        raise VerifyError(f"{snapshot / MANIFEST}: content_hash does not match its content")


def _kind(value: object) -> str:
    return "nothing" if value is None else type(value).__name__
