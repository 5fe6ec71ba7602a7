"""Immutable snapshots: staged, validated, manifest last, renamed, then `current` swapped.

    <out>/snapshots/<snapshot_id>/<table>/part-0.parquet
    <out>/snapshots/<snapshot_id>/citations/category=<name>/part-0.parquet
    <out>/snapshots/<snapshot_id>/manifest.json
    <out>/current -> snapshots/<snapshot_id>

A run that fails or is killed before the final ``os.replace`` of ``current``
leaves the previous snapshot current and whole; a staging directory, or a
complete snapshot that never became current, left behind by a killed run is
ignored by readers and removed by the next run (see ``layout``). The
manifest's ``content_hash`` covers everything but when, by which command
line and after which snapshot the run happened (``manifest.VOLATILE_KEYS``),
so rebuilding from the same raw store gives the same hash. Directories and files
are made with the modes the umask allows (0755 and 0644 by default), so other
users of a shared machine can read a published snapshot.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Iterable, Mapping
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from pipeline.errors import ForeignPathError, NoSnapshotError, SnapshotError, VerifyError
from pipeline.load import layout
from pipeline.load.manifest import (
    MANIFEST,
    Manifest,
    checked_file,
    content_hash,
    dump_manifest,
    load_manifest,
    manifest_object,
)
from pipeline.load.parquet import (
    FileEntry,
    fsync_path,
    parquet_rows,
    write_parquet,
    write_parquet_stream,
)

PART = "part-0.parquet"


class SnapshotWriter:
    """Builds one snapshot in a staging directory under ``<out>/snapshots``."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.snapshots = out_dir / layout.SNAPSHOTS
        try:
            self.snapshots.mkdir(parents=True, exist_ok=True)
            self.staging = layout.make_dir(self.snapshots, layout.STAGING_PREFIX, 0o777)
        except OSError as exc:
            raise SnapshotError(f"cannot create a staging directory in {out_dir}: {exc}") from exc
        self.files: dict[str, FileEntry] = {}
        # The reserved final directory, and whether `current` may already name it.
        self._final: Path | None = None
        self._renamed = False
        self._swapping = False

    def add(self, relpath: str, table: pa.Table) -> None:
        try:
            self.files[relpath] = write_parquet(table, self.staging / relpath)
        except OSError as exc:
            raise SnapshotError(f"cannot write {relpath}: {exc.strerror or exc}") from exc

    def add_stream(self, relpath: str, schema: pa.Schema, parts: Iterable[pa.Table]) -> None:
        try:
            self.files[relpath] = write_parquet_stream(schema, parts, self.staging / relpath)
        except OSError as exc:
            raise SnapshotError(f"cannot write {relpath}: {exc.strerror or exc}") from exc

    def publish(self, manifest: Manifest, now: datetime | None = None) -> tuple[Path, Manifest]:
        """Validate, write the manifest last, rename into place, swap ``current``.

        ``manifest`` says everything but the files (this writer's) and what
        publishing stamps (id, time, hash). Returns the published directory and
        its complete manifest.
        """
        try:
            return self._publish(manifest, now or datetime.now(UTC))
        except OSError as exc:
            self.discard()
            raise SnapshotError(f"cannot publish snapshot: {exc.strerror or exc}") from exc
        except BaseException:
            self.discard()
            raise

    def _publish(self, manifest: Manifest, now: datetime) -> tuple[Path, Manifest]:
        manifest = dataclasses.replace(
            manifest,
            files=dict(sorted(self.files.items())),
            snapshot_id=None,
            created_at=None,
            content_hash=None,
        )
        check_files(self.staging, self.files)
        digest = content_hash(manifest_object(manifest))
        final = layout.reserve_snapshot_dir(self.snapshots, f"{now:%Y%m%dT%H%M%SZ}-{digest[:12]}")
        self._final = final
        manifest = dataclasses.replace(
            manifest,
            snapshot_id=final.name,
            created_at=now.isoformat(timespec="microseconds").replace("+00:00", "Z"),
            content_hash=digest,
        )
        path = self.staging / MANIFEST
        path.write_text(dump_manifest(manifest_object(manifest)), "utf-8")
        fsync_path(path)
        os.replace(self.staging, final)  # onto the empty directory reserved above
        self._renamed = True
        fsync_path(self.snapshots)
        self._swapping = True
        _swap_current(self.out_dir, final)
        layout.record_published(self.out_dir, final.name)
        return final, manifest

    def discard(self) -> None:
        """Remove what this writer made, except a snapshot `current` may name."""
        shutil.rmtree(self.staging, ignore_errors=True)
        if self._final is None or self._swapping:
            return
        if self._renamed:
            shutil.rmtree(self._final, ignore_errors=True)
        else:
            with suppress(OSError):
                self._final.rmdir()


def _swap_current(out_dir: Path, target: Path) -> None:
    link = out_dir / layout.CURRENT
    tmp = out_dir / f"{layout.LINK_PREFIX}{os.getpid()}"
    if os.path.lexists(tmp):
        if not layout.is_current_link(tmp):
            raise ForeignPathError(f"{tmp} is not a link medgen-etl made: not replaced")
        tmp.unlink()
    layout.check_current(out_dir)
    os.symlink(os.path.relpath(target, out_dir), tmp)
    os.replace(tmp, link)  # atomic: readers see the old or the new snapshot
    fsync_path(out_dir)


# ------------------------------------------------------------------ reading


def current_snapshot(out_dir: Path) -> Path:
    link = out_dir / layout.CURRENT
    if not link.exists():
        raise NoSnapshotError(f"no published snapshot in {out_dir} (run `medgen-etl build` first)")
    return link.resolve()


def check_files(root: Path, files: Mapping[str, FileEntry]) -> list[str]:
    """Recompute every file's size, sha256 and row count; raise on any difference."""
    problems: list[str] = []
    regular, other = _listing(root)
    for extra in sorted(regular - set(files)):
        problems.append(f"{extra}: not listed in the manifest")
    for odd in sorted(other - set(files)):
        problems.append(f"{odd}: a symbolic link or special file, not part of a snapshot")
    for rel, want in sorted(files.items()):
        problems.extend(_check_one(root, rel, want))
    if problems:
        raise VerifyError(f"{root}: " + "; ".join(problems))
    return sorted(files)


def _check_one(root: Path, rel: str, want: FileEntry) -> list[str]:
    try:
        with checked_file(root, rel, want) as source:
            rows = parquet_rows(source, rel, VerifyError)
    except VerifyError as exc:
        return [str(exc)]
    return [] if rows == want.rows else [f"{rel}: {rows} rows, manifest says {want.rows}"]


def _listing(root: Path) -> tuple[set[str], set[str]]:
    """Regular files under ``root`` (not the manifest), and all else that is no directory."""
    regular: set[str] = set()
    other: set[str] = set()
    for folder, dirs, names in os.walk(root):
        base = Path(folder).relative_to(root)
        for name in [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            other.add((base / name).as_posix())
        for name in names:
            rel = (base / name).as_posix()
            if rel == MANIFEST:
                continue
            if os.path.isfile(os.path.join(folder, name)) and not os.path.islink(
                os.path.join(folder, name)
            ):
                regular.add(rel)
            else:
                other.add(rel)
    return regular, other


def verify(snapshot: Path) -> Manifest:
    """Check a snapshot against its manifest; return the manifest, or raise VerifyError.

    Every path and field of the manifest is checked before any file is opened.
    """
    manifest = load_manifest(snapshot)
    check_files(snapshot, manifest.files)
    return manifest
