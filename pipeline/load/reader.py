"""Reading a published snapshot back: only its Parquet files and manifest.

Nothing is read that the manifest does not vouch for: each file is opened
inside the snapshot only, its size and sha256 compared with the manifest's
before it is parsed, and its pages' checksums verified while it is; a file
that fails any of these is refused (VerifyError, exit 65) by name. Hashing
costs little next to parsing at these sizes, and it is the one check that
covers a changed footer as well as a changed page.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.errors import UsageError, VerifyError
from pipeline.load.manifest import MANIFEST, Manifest, checked_file, load_manifest
from pipeline.load.parquet import FileEntry, read_parquet
from pipeline.load.snapshot import PART
from pipeline.models import Category


def read_listed(
    root: Path,
    files: Mapping[str, FileEntry],
    listing: str,
    rel: str,
    columns: Sequence[str] | None = None,
) -> pa.Table:
    """``root/rel`` as ``files`` (read from ``root/listing``) lists it: size, sha256,
    page checksums and rows checked, or VerifyError naming the file."""
    want = files.get(rel)
    if want is None:
        raise VerifyError(f"{root / listing} lists no {rel}")
    try:
        with checked_file(root, rel, want) as source:
            table = read_parquet(source, rel, VerifyError, columns)
    except VerifyError as exc:
        raise VerifyError(f"refusing {root / rel}: {exc}") from exc
    if table.num_rows != want.rows:
        said = "manifest" if listing == MANIFEST else listing
        raise VerifyError(f"{root / rel}: {table.num_rows} rows, {said} says {want.rows}")
    return table


@dataclass(frozen=True, slots=True)
class PublishedSnapshot:
    """A snapshot whose manifest was read and checked (not yet its files)."""

    path: Path
    manifest: Manifest

    @property
    def files(self) -> Mapping[str, FileEntry]:
        return self.manifest.files

    def read(self, rel: str, columns: Sequence[str] | None = None) -> pa.Table:
        """The file ``rel``, checked; ``columns``: only those of these the file has."""
        return read_listed(self.path, self.files, MANIFEST, rel, columns)

    def row_groups(self, rel: str, columns: Sequence[str] | None = None) -> Iterator[pa.Table]:
        """The file's row groups in order, one at a time (memory holds one), after the
        same size and sha256 check as ``read``; ``columns``: only these."""
        want = self.files.get(rel)
        if want is None:
            raise VerifyError(f"{self.path / MANIFEST} lists no {rel}")
        rows = 0
        try:
            with checked_file(self.path, rel, want) as source:
                parquet = pq.ParquetFile(source, page_checksum_verification=True)
                for index in range(parquet.num_row_groups):
                    group = parquet.read_row_group(index, columns=columns)
                    rows += group.num_rows
                    yield group
        except VerifyError as exc:
            raise VerifyError(f"refusing {self.path / rel}: {exc}") from exc
        except (OSError, pa.ArrowException, ValueError) as exc:
            raise VerifyError(f"{self.path / rel}: not a readable Parquet file ({exc})") from exc
        if rows != want.rows:
            raise VerifyError(f"{self.path / rel}: {rows} rows, manifest says {want.rows}")


@dataclass(frozen=True, slots=True)
class SnapshotView:
    concept: dict[str, Any]
    categories: tuple[Category, ...]
    citations: dict[str, list[dict[str, Any]]]


def open_snapshot(path: Path) -> PublishedSnapshot:
    return PublishedSnapshot(path, load_manifest(path))


def find_concept(snapshot: PublishedSnapshot, ref: str) -> dict[str, Any]:
    rows: list[dict[str, Any]] = snapshot.read(f"concepts/{PART}").to_pylist()
    for row in rows:
        if concept_matches(row, ref):
            return row
    raise UsageError(f"concept {ref!r} is not in snapshot {snapshot.path.name}")


def concept_matches(row: Mapping[str, Any], ref: str) -> bool:
    """Whether ``ref`` names the concept ``row``: its CUI, MedGen UID or name (any case)."""
    wanted = ref.strip().upper()
    return (
        wanted in (row["cui"].upper(), str(row["uid"]))
        or ref.strip().casefold() == row["name"].casefold()
    )


def snapshot_categories(snapshot: PublishedSnapshot) -> tuple[Category, ...]:
    return snapshot.manifest.categories.config


def snapshot_view(path: Path, ref: str) -> SnapshotView:
    return concept_view(open_snapshot(path), ref)


def concept_view(snapshot: PublishedSnapshot, ref: str) -> SnapshotView:
    """One concept's citations per category, from a snapshot opened (and checked) once."""
    categories = snapshot_categories(snapshot)
    concept = find_concept(snapshot, ref)
    citations = {}
    for category in categories:
        table = snapshot.read(f"citations/category={category.name}/{PART}")
        table = table.filter(pc.equal(table["cui"], concept["cui"]))
        rows: list[dict[str, Any]] = table.to_pylist()
        citations[category.name] = sorted(rows, key=lambda r: r["rank"])
    return SnapshotView(concept, categories, citations)
