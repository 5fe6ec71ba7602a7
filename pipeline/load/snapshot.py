"""Immutable snapshots: staged, validated, manifest last, renamed, then `current` swapped.

    <out>/snapshots/<snapshot_id>/<table>/part-0.parquet
    <out>/snapshots/<snapshot_id>/citations/category=<name>/part-0.parquet
    <out>/snapshots/<snapshot_id>/manifest.json
    <out>/current -> snapshots/<snapshot_id>

A run that fails or is killed before the final ``os.replace`` of ``current``
leaves the previous snapshot current and whole; a staging directory left
behind is ignored by readers (its name starts with a dot) and removed by the
next run. The manifest's ``content_hash`` covers everything but wall-clock
values, so rebuilding from the same raw store gives the same hash.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.errors import SnapshotError, VerifyError

MANIFEST = "manifest.json"
PART = "part-0.parquet"
# Manifest keys that depend on when the run happened, not on what it read.
VOLATILE_KEYS = ("snapshot_id", "created_at", "content_hash")


@dataclass(frozen=True, slots=True)
class FileEntry:
    rows: int
    bytes: int
    sha256: str


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# One set of Parquet options for every file a snapshot holds.
PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "write_statistics": True,
    # Microsecond timestamps: nanoseconds are not read by every engine.
    "coerce_timestamps": "us",
    "allow_truncated_timestamps": False,
}


def write_parquet(table: pa.Table, path: Path) -> FileEntry:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, **PARQUET_OPTIONS)
    _fsync(path)
    return FileEntry(table.num_rows, path.stat().st_size, sha256_file(path))


def write_parquet_stream(schema: pa.Schema, parts: Iterable[pa.Table], path: Path) -> FileEntry:
    """Many tables into one file, one row group at a time: memory holds one part.

    Empty parts write nothing: the file depends on the rows alone, not on how a
    caller happened to cut them (no parts and one empty part give the same bytes).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    with pq.ParquetWriter(path, schema, **PARQUET_OPTIONS) as writer:
        for part in parts:
            if part.num_rows == 0:
                continue
            writer.write_table(part.cast(schema) if part.schema != schema else part)
            rows += part.num_rows
    _fsync(path)
    return FileEntry(rows, path.stat().st_size, sha256_file(path))


def content_hash(manifest: Mapping[str, Any]) -> str:
    stable = {k: v for k, v in manifest.items() if k not in VOLATILE_KEYS}
    return hashlib.sha256(
        json.dumps(stable, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


class SnapshotWriter:
    """Builds one snapshot in a staging directory under ``<out>/snapshots``."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.snapshots = out_dir / "snapshots"
        try:
            self.snapshots.mkdir(parents=True, exist_ok=True)
            self.staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.snapshots))
        except OSError as exc:
            raise SnapshotError(f"cannot create a staging directory in {out_dir}: {exc}") from exc
        self.files: dict[str, FileEntry] = {}

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

    def publish(
        self, manifest: dict[str, Any], now: datetime | None = None
    ) -> tuple[Path, dict[str, Any]]:
        """Validate, write the manifest last, rename into place, swap ``current``.

        Returns the published directory and its complete manifest.
        """
        try:
            return self._publish(manifest, now or datetime.now(UTC))
        except OSError as exc:
            self.discard()
            raise SnapshotError(f"cannot publish snapshot: {exc.strerror or exc}") from exc
        except BaseException:
            self.discard()
            raise

    def _publish(self, manifest: dict[str, Any], now: datetime) -> tuple[Path, dict[str, Any]]:
        manifest = dict(manifest)
        manifest["files"] = {
            k: {"rows": v.rows, "bytes": v.bytes, "sha256": v.sha256}
            for k, v in sorted(self.files.items())
        }
        _check_files(self.staging, manifest["files"])
        digest = content_hash(manifest)
        snapshot_id = f"{now:%Y%m%dT%H%M%SZ}-{digest[:12]}"
        manifest.update(
            snapshot_id=snapshot_id,
            created_at=now.isoformat(timespec="microseconds").replace("+00:00", "Z"),
            content_hash=digest,
        )
        path = self.staging / MANIFEST
        path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", "utf-8")
        _fsync(path)
        final = self.snapshots / snapshot_id
        os.replace(self.staging, final)
        _fsync(self.snapshots)
        _swap_current(self.out_dir, final)
        return final, manifest

    def discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


def _swap_current(out_dir: Path, target: Path) -> None:
    link = out_dir / "current"
    tmp = out_dir / f".current-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    os.symlink(os.path.relpath(target, out_dir), tmp)
    os.replace(tmp, link)  # atomic: readers see the old or the new snapshot
    _fsync(out_dir)


def remove_stale_staging(out_dir: Path) -> None:
    """What a killed run left half-done; only called while holding the output lock."""
    for path in (out_dir / "snapshots").glob(".staging-*"):
        shutil.rmtree(path, ignore_errors=True)
    for link in out_dir.glob(".current-*"):
        link.unlink(missing_ok=True)


# ------------------------------------------------------------------ reading


def current_snapshot(out_dir: Path) -> Path:
    link = out_dir / "current"
    if not link.exists():
        raise SnapshotError(f"no published snapshot in {out_dir} (run `medgen-etl build` first)")
    return link.resolve()


def read_manifest(snapshot: Path) -> dict[str, Any]:
    try:
        data = json.loads((snapshot / MANIFEST).read_text("utf-8"))
    except FileNotFoundError as exc:
        raise VerifyError(f"{snapshot} has no {MANIFEST}: not a published snapshot") from exc
    except (OSError, ValueError) as exc:
        raise VerifyError(f"{snapshot / MANIFEST} is unreadable: {exc}") from exc
    if not isinstance(data, dict):
        raise VerifyError(f"{snapshot / MANIFEST} is not a JSON object")
    return data


def _check_files(root: Path, files: Mapping[str, Any]) -> list[str]:
    """Recompute every file's size, sha256 and row count; raise on any difference."""
    problems: list[str] = []
    on_disk = {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and p.name != MANIFEST
    }
    for extra in sorted(on_disk - set(files)):
        problems.append(f"{extra}: not listed in the manifest")
    for rel, want in sorted(files.items()):
        problems.extend(_check_one(root / rel, rel, want))
    if problems:
        raise VerifyError(f"{root}: " + "; ".join(problems))
    return sorted(files)


def _check_one(path: Path, rel: str, want: Mapping[str, Any]) -> list[str]:
    if not path.is_file():
        return [f"{rel}: missing"]
    problems = []
    size = path.stat().st_size
    if size != want.get("bytes"):
        problems.append(f"{rel}: {size} bytes, manifest says {want.get('bytes')}")
    digest = sha256_file(path)
    if digest != want.get("sha256"):
        problems.append(
            f"{rel}: sha256 {digest[:12]}…, manifest says {str(want.get('sha256'))[:12]}…"
        )
    try:
        rows = pq.ParquetFile(path).metadata.num_rows
    except (OSError, pa.ArrowException) as exc:
        return [*problems, f"{rel}: not a readable Parquet file ({exc})"]
    if rows != want.get("rows"):
        problems.append(f"{rel}: {rows} rows, manifest says {want.get('rows')}")
    return problems


def verify(snapshot: Path) -> dict[str, Any]:
    """Check a snapshot against its manifest; return the manifest, or raise VerifyError."""
    manifest = read_manifest(snapshot)
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise VerifyError(f"{snapshot / MANIFEST} lists no files")
    _check_files(snapshot, files)
    if content_hash(manifest) != manifest.get("content_hash"):
        raise VerifyError(f"{snapshot / MANIFEST}: content_hash does not match its content")
    return manifest
