"""Every Parquet file medgen-etl writes or reads goes through here.

Writers store a CRC32 checksum in every page header and readers verify it, so
a changed byte in a page of data is an error, never a different value. (Page
checksums do not cover the footer; readers of a published snapshot also check
each file's size and sha256 against its manifest, see ``reader``.)
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.errors import MedgenEtlError, SnapshotError

# One set of Parquet options for every file a snapshot holds.
PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "write_statistics": True,
    # Microsecond timestamps: nanoseconds are not read by every engine.
    "coerce_timestamps": "us",
    "allow_truncated_timestamps": False,
    "write_page_checksum": True,
}

# Work files (bulk parse parts) are read once, by the merge, then deleted: lz4
# writes them in about half zstd's time. They are checksummed all the same.
WORK_PARQUET_OPTIONS: dict[str, Any] = {"compression": "lz4", "write_page_checksum": True}


@dataclass(frozen=True, slots=True)
class FileEntry:
    """A file as the manifest lists it."""

    rows: int
    bytes: int
    sha256: str


def sha256_file(path: Path) -> str:
    with path.open("rb") as fh:
        return sha256_stream(fh)


def sha256_stream(fh: IO[bytes]) -> str:
    digest = hashlib.sha256()
    for block in iter(lambda: fh.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_parquet(table: pa.Table, path: Path) -> FileEntry:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, **PARQUET_OPTIONS)
    fsync_path(path)
    return FileEntry(table.num_rows, path.stat().st_size, sha256_file(path))


def write_parquet_stream(schema: pa.Schema, parts: Iterable[pa.Table], path: Path) -> FileEntry:
    """Many tables into one file, one row group per part: memory holds one part.

    Empty parts write nothing, and each part is written as one chunk: the file
    depends on the rows of each part alone, not on how a caller happened to cut or
    read them (no parts and one empty part give the same bytes), and each part can
    be read back as the row group it became.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    with pq.ParquetWriter(path, schema, **PARQUET_OPTIONS) as writer:
        for part in parts:
            if part.num_rows == 0:
                continue
            # One chunk per column: the writer cuts pages at its batches, which restart
            # at each chunk, so the bytes would depend on how the part's rows were read.
            # One row group per part (pyarrow's cap, 64Mi rows, is far above any part).
            part = part.cast(schema) if part.schema != schema else part
            writer.write_table(part.combine_chunks(), row_group_size=part.num_rows)
            rows += part.num_rows
    fsync_path(path)
    return FileEntry(rows, path.stat().st_size, sha256_file(path))


def work_writer(path: Path, schema: pa.Schema) -> pq.ParquetWriter:
    """A writer of a work file (see WORK_PARQUET_OPTIONS)."""
    return pq.ParquetWriter(path, schema, **WORK_PARQUET_OPTIONS)


def read_parquet(
    source: Path | pa.NativeFile,
    name: str,
    error: type[MedgenEtlError] = SnapshotError,
    columns: Sequence[str] | None = None,
) -> pa.Table:
    """A whole Parquet file, every page checksum verified.

    ``columns``: only these, of those the file has (one it lacks is left out:
    the caller tells an older file by its absence). A file pyarrow cannot read
    raises ``error`` naming the file as ``name``.
    """
    try:
        if columns is not None:
            file = pq.ParquetFile(source, page_checksum_verification=True)
            present = set(file.schema_arrow.names)
            return file.read(columns=[c for c in columns if c in present])
        return pq.read_table(source, page_checksum_verification=True)
    except (OSError, pa.ArrowException, ValueError) as exc:
        # A page whose bytes changed: OSError "could not verify page integrity,
        # CRC checksum verification failed for page_ordinal N".
        raise error(f"{name}: not a readable Parquet file ({exc})") from exc


def parquet_rows(
    source: pa.NativeFile, name: str, error: type[MedgenEtlError] = SnapshotError
) -> int:
    """The row count a file's footer declares."""
    try:
        rows: int = pq.ParquetFile(source, page_checksum_verification=True).metadata.num_rows
    except (OSError, pa.ArrowException, ValueError) as exc:
        raise error(f"{name}: not a readable Parquet file ({exc})") from exc
    return rows
