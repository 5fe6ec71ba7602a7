"""What an output directory holds, and the rule that the pipeline touches only its own.

    <out>/current               symlink -> snapshots/<snapshot_id>
    <out>/snapshots/<id>/       a snapshot (published, or completed by a killed run)
    <out>/snapshots/.published  the id of every snapshot that was ever current, one a line
    <out>/snapshots/.staging-*  a snapshot being written
    <out>/.current-<pid>        the next ``current`` link, for an instant
    <out>/.bulk-*               bulk's work files
    <out>/.lock                 held by the running build
    <out>/raw/                  the raw store (unless --raw-dir names another)
    <out>/sides/<id>/           what gc kept of a removed snapshot a kept one's
                                changes are told against (pipeline/load/lineage.py)
    <out>/.input-digests.json   sha256 of PubMed files bulk --update checked (a cache:
                                pipeline/extract/input_digests.py)

Before a build sends its first request, each of these names must be absent or
of the kind the pipeline makes (a ``current`` that is a regular file, a
``snapshots`` that is a symbolic link, a ``.lock`` that is a directory ...
are refused, exit 74, and left as they are). A killed run's leftovers are
removed by the next run, and only those that are provably its own: staging
and work directories by name inside the pipeline's directories, and a
complete snapshot only if it was never current (``.published`` says which
were; snapshots that were once current are history and are kept).
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.errors import ForeignPathError, MedgenEtlError
from pipeline.load.lock import LOCK_NAME, OutputLock, is_lock_record
from pipeline.load.manifest import read_manifest
from pipeline.load.parquet import fsync_path

log = logging.getLogger(__name__)

CURRENT = "current"
SNAPSHOTS = "snapshots"
HISTORY = ".published"
SIDES = "sides"
INPUT_DIGESTS = ".input-digests.json"
SNAPSHOT_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{12}(?:-\d+)?")
STAGING_PREFIX, WORK_PREFIX, LINK_PREFIX = ".staging-", ".bulk-", ".current-"
# Names made by tempfile.mkdtemp (older releases) and by make_dir below.
_STAGING = re.compile(r"\.staging-[a-z0-9_]{8,32}")
_WORK = re.compile(r"\.bulk-[a-z0-9_]{8,32}")
_LINK = re.compile(r"\.current-\d+")
_DIGESTS_TMP = re.compile(r"\.input-digests\.json\.\d+\.tmp")


def _kind(path: Path) -> str:
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return "absent"
    if stat.S_ISLNK(mode):
        return f"a symbolic link to {os.readlink(path)!r}"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISREG(mode):
        return "a regular file"
    return "a special file"


def is_current_link(path: Path) -> bool:
    """A link of the form the pipeline makes: ``snapshots/<one name>``, relative."""
    if not path.is_symlink():
        return False
    target = os.readlink(path)
    head, _, name = target.partition("/")
    return head == SNAPSHOTS and name not in ("", ".", "..") and "/" not in name


def _refuse(path: Path, found: str, makes: str) -> ForeignPathError:
    return ForeignPathError(
        f"{path} is {found}, not the {makes} medgen-etl makes there: refusing to replace "
        "or write through it (move it away, or choose another --out)"
    )


def _expect(path: Path, kind: str, makes: str) -> None:
    found = _kind(path)
    if found not in ("absent", kind):
        raise _refuse(path, found, makes)


def check_current(out_dir: Path) -> None:
    link = out_dir / CURRENT
    if _kind(link) != "absent" and not is_current_link(link):
        raise _refuse(link, _kind(link), "symbolic link to snapshots/<snapshot_id>")


def check_output(out_dir: Path, raw_dir: Path | None = None) -> None:
    """Raise ForeignPathError if a path the run would write holds what the pipeline did not make."""
    if out_dir.exists() and not out_dir.is_dir():
        raise _refuse(out_dir, _kind(out_dir), "output directory")
    check_current(out_dir)
    _expect(out_dir / SNAPSHOTS, "a directory", "snapshots directory")
    _expect(out_dir / SNAPSHOTS / HISTORY, "a regular file", "list of published snapshots")
    _expect(out_dir / LOCK_NAME, "a regular file", "lock file")
    _expect(out_dir / SIDES, "a directory", "directory of kept sides")
    _expect(out_dir / INPUT_DIGESTS, "a regular file", "cache of input file digests")
    if (out_dir / LOCK_NAME).is_file() and not is_lock_record(out_dir / LOCK_NAME):
        raise _refuse(out_dir / LOCK_NAME, "a file with other content", "lock file")
    if raw_dir is None:
        return
    if os.path.abspath(raw_dir) == os.path.abspath(out_dir / "raw"):
        _expect(raw_dir, "a directory", "raw store directory")
    elif raw_dir.exists() and not raw_dir.is_dir():
        raise _refuse(raw_dir, _kind(raw_dir), "raw store directory")


@contextmanager
def claim_output(
    out_dir: Path, *, raw_dir: Path | None = None, wait: bool = False
) -> Iterator[None]:
    """Check the output directory, hold its lock, and clear what a killed run left."""
    check_output(out_dir, raw_dir)
    with OutputLock(out_dir, wait=wait):
        clean_output(out_dir)
        yield


def make_dir(parent: Path, prefix: str, mode: int) -> Path:
    """A new directory ``parent/<prefix><random>``; ``mode`` is filtered by the umask."""
    while True:
        path = parent / f"{prefix}{secrets.token_hex(8)}"
        try:
            os.mkdir(path, mode)
        except FileExistsError:
            continue
        return path


def reserve_snapshot_dir(snapshots: Path, base: str) -> Path:
    """An empty directory named ``base`` (or ``base-2``, ``base-3`` ...), made by this call.

    mkdir is the reservation: it fails if anything holds the name, so two runs
    in one second with the same content get two snapshots, and nothing that
    was there is replaced. The rename of the staging directory onto this empty
    one then publishes it in one step.
    """
    n = 1
    while True:
        path = snapshots / (base if n == 1 else f"{base}-{n}")
        try:
            os.mkdir(path, 0o777)
        except FileExistsError:
            n += 1
            continue
        return path


def current_name(out_dir: Path) -> str | None:
    link = out_dir / CURRENT
    return os.readlink(link).partition("/")[2] if is_current_link(link) else None


def record_published(out_dir: Path, *snapshot_ids: str) -> None:
    """Add snapshots that became current to the history (appended and synced)."""
    start_history(out_dir)
    _append(out_dir, snapshot_ids)


def _append(out_dir: Path, snapshot_ids: Iterable[str]) -> None:
    fd = os.open(
        out_dir / SNAPSHOTS / HISTORY,
        os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW,
        0o666,
    )
    try:
        os.write(fd, "".join(f"{i}\n" for i in snapshot_ids).encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def forget_published(out_dir: Path, snapshot_ids: Iterable[str]) -> None:
    """Rewrite the history without these snapshots (removed by ``gc``), nor any
    whose directory is gone; replaced in one rename, under the output lock."""
    gone = set(snapshot_ids)
    present = set(snapshot_dirs(out_dir))
    path = out_dir / SNAPSHOTS / HISTORY
    kept = [i for i in path.read_text("utf-8").split() if i not in gone and i in present]
    tmp = path.with_name(f"{HISTORY}.{os.getpid()}.tmp")
    tmp.write_text("".join(f"{i}\n" for i in kept), "utf-8")
    fsync_path(tmp)
    os.replace(tmp, path)
    fsync_path(out_dir / SNAPSHOTS)


def snapshot_dirs(out_dir: Path) -> list[str]:
    """The names of the snapshot directories under ``<out>/snapshots``, sorted."""
    return sorted(
        e.name
        for e in _entries(out_dir / SNAPSHOTS)
        if SNAPSHOT_ID.fullmatch(e.name) and e.is_dir(follow_symlinks=False)
    )


def start_history(out_dir: Path) -> None:
    """Make the history if it is missing: an output directory written before it
    existed counts each of its snapshots as published (what cannot be proven an
    orphan is kept). From then on the file exists before any run publishes."""
    if (out_dir / SNAPSHOTS / HISTORY).exists():
        return
    _append(out_dir, snapshot_dirs(out_dir))


def published(out_dir: Path) -> set[str]:
    path = out_dir / SNAPSHOTS / HISTORY
    return set(path.read_text("utf-8").split()) if path.is_file() else set()


def clean_output(out_dir: Path) -> None:
    """Remove what a killed run left half-done; only called while holding the output lock."""
    for entry in _entries(out_dir):
        if _LINK.fullmatch(entry.name) and is_current_link(Path(entry.path)):
            os.unlink(entry.path)
        elif _WORK.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
    for entry in _entries(out_dir):  # the digest cache a killed update was writing
        if _DIGESTS_TMP.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
            os.unlink(entry.path)
    for entry in _entries(out_dir / SIDES):  # a side gc was killed writing
        if _STAGING.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
    snapshots = out_dir / SNAPSHOTS
    if not snapshots.is_dir():
        return
    history = _history(out_dir)
    current = current_name(out_dir)
    for entry in _entries(snapshots):
        if not entry.is_dir(follow_symlinks=False):
            continue
        if _STAGING.fullmatch(entry.name):
            shutil.rmtree(entry.path, ignore_errors=True)
        elif SNAPSHOT_ID.fullmatch(entry.name) and entry.name not in history | {current}:
            _remove_orphan(Path(entry.path))


def _entries(path: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(path) as it:
            return list(it)
    except (FileNotFoundError, NotADirectoryError):
        return []


def _history(out_dir: Path) -> set[str]:
    """Every snapshot that was ever current, the current one included."""
    start_history(out_dir)
    history = published(out_dir)
    current = current_name(out_dir)
    if current is not None and current not in history:
        # Killed after the `current` swap, before its record: it was published.
        record_published(out_dir, current)
        history.add(current)
    return history


def _remove_orphan(path: Path) -> None:
    """A snapshot directory a killed run made but never published: empty (reserved) or complete."""
    try:
        path.rmdir()
        return
    except OSError:
        pass  # not empty
    try:
        manifest = read_manifest(path)
    except MedgenEtlError as exc:
        log.warning("leaving %s alone: not a snapshot medgen-etl completed (%s)", path, exc)
        return
    if manifest.get("snapshot_id") != path.name:
        log.warning("leaving %s alone: its manifest names another snapshot", path)
        return
    log.warning("removing %s: a killed run completed it but never made it current", path)
    shutil.rmtree(path, ignore_errors=True)
