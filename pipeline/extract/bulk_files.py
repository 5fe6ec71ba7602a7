"""Open MedGen bulk files for the pure parsers in ``pipeline.transform.medgen_files``.

Files are streamed: gunzipped on the fly (recognized by their magic bytes, not their name, so
a file someone gunzipped but kept as ``.gz`` still reads), never held in memory.

Lines split on ``\\n`` only: NCBI writes line breaks inside MGDEF.RRF definitions as ``\\r``,
and Python's universal newlines would cut a definition there. Bytes that are not UTF-8 are
kept as surrogate escapes, so the parser rejects that one line by number instead of the
whole 48-million-line pass failing at an unknown place.

Errors: a missing or unreadable file is a :class:`UsageError` (the user named it); a broken
or truncated gzip stream is a :class:`ResponseFormatError` naming the file and the last
good line; a read failure of the disk is a :class:`SnapshotError`.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, TextIO

from pipeline.errors import ResponseFormatError, SnapshotError, UsageError
from pipeline.transform.medgen_files import (
    DEFAULT_MAX_REJECTS,
    LinkScan,
    TextScan,
    concept_texts,
    group_links,
    parse_definitions,
    parse_names,
)

_GZIP_MAGIC = b"\x1f\x8b"


@contextmanager
def open_lines(path: Path) -> Iterator[Iterator[str]]:
    """The file's physical lines (line endings kept), gunzipped if it is gzip."""
    raw = _open_raw(path)
    try:
        with _decoded(raw, path) as text:
            yield _guarded(text, path)
    finally:
        raw.close()


def read_links(
    path: Path,
    *,
    cuis: Collection[str] = (),
    uids: Collection[int] = (),
    max_rejects: int = DEFAULT_MAX_REJECTS,
) -> LinkScan:
    """The requested concepts' PMIDs from ``medgen_pubmed_lnk.txt.gz``, in one pass."""
    with open_lines(path) as lines:
        return group_links(lines, cuis=cuis, uids=uids, file=str(path), max_rejects=max_rejects)


def read_concept_texts(
    names_path: Path,
    definitions_path: Path,
    cuis: Collection[str],
    *,
    max_rejects: int = DEFAULT_MAX_REJECTS,
) -> TextScan:
    """The requested concepts' names (NAMES.RRF) and definitions (MGDEF.RRF)."""
    with open_lines(names_path) as names, open_lines(definitions_path) as definitions:
        return concept_texts(
            parse_names(names, file=str(names_path)),
            parse_definitions(definitions, file=str(definitions_path)),
            cuis,
            max_rejects=max_rejects,
        )


def _decoded(raw: BinaryIO, path: Path) -> TextIO:
    if _is_gzip(raw, path):
        gunzipped = gzip.GzipFile(fileobj=raw, mode="rb")
        return io.TextIOWrapper(gunzipped, "utf-8", "surrogateescape", newline="\n")
    return io.TextIOWrapper(raw, "utf-8", "surrogateescape", newline="\n")


def _open_raw(path: Path) -> BinaryIO:
    try:
        return path.open("rb")
    except FileNotFoundError as exc:
        raise UsageError(f"{path}: no such file") from exc
    except OSError as exc:
        raise UsageError(f"cannot open {path}: {exc.strerror or exc}") from exc


def _is_gzip(raw: BinaryIO, path: Path) -> bool:
    try:
        magic = raw.read(2)
        raw.seek(0)
    except OSError as exc:
        raise SnapshotError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return magic == _GZIP_MAGIC


def _guarded(lines: Iterator[str], path: Path) -> Iterator[str]:
    """Pass lines through, turning decompression and disk failures into our errors."""
    number = 0
    try:
        for line in lines:
            number += 1
            yield line
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise ResponseFormatError(
            f"{path}: compressed data broken after line {number} ({exc}); "
            "a truncated or corrupt download? fetch it again"
        ) from exc
    except OSError as exc:
        raise SnapshotError(f"cannot read {path} after line {number}: {exc}") from exc
