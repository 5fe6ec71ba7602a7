"""Open MedGen bulk files for the pure parsers in ``pipeline.transform.medgen_files``.

Files are streamed: gunzipped on the fly (recognized by their magic bytes, not their name, so
a file someone gunzipped but kept as ``.gz`` still reads), never held in memory.

Lines split on ``\\n`` only: NCBI writes line breaks inside MGDEF.RRF definitions as ``\\r``,
and Python's universal newlines would cut a definition there. Bytes that are not UTF-8 are
kept as surrogate escapes, so the parser rejects that one line by number instead of the
whole 48-million-line pass failing at an unknown place.

Errors: a missing or unreadable file is a :class:`UsageError` (the user named it); a broken
or truncated gzip stream is a :class:`ResponseFormatError` naming the file and the last
good line; a read failure of the disk is an :class:`InputFileError`.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import zlib
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

import pyarrow as pa
from isal import igzip

from pipeline.errors import InputFileError, ResponseFormatError, UsageError
from pipeline.transform.links_arrow import LINK_COLUMNS, link_block
from pipeline.transform.medgen_files import (
    DEFAULT_MAX_REJECTS,
    LINKS_HEADER,
    LineReject,
    LinkScan,
    MedgenLink,
    RejectLog,
    TextScan,
    concept_texts,
    expect_header,
    group_links,
    parse_definitions,
    parse_names,
    read_link_line,
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


def file_digest(path: Path) -> tuple[int, str]:
    """(bytes, sha256) of an input file as it is on disk, read once."""
    try:
        with path.open("rb") as fh:
            digest = hashlib.file_digest(fh, "sha256")
            return fh.tell(), digest.hexdigest()
    except OSError as exc:
        raise InputFileError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _is_gzip(raw: BinaryIO, path: Path) -> bool:
    try:
        magic = raw.read(2)
        raw.seek(0)
    except OSError as exc:
        raise InputFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return magic == _GZIP_MAGIC


def _guarded(lines: Iterator[str], path: Path) -> Iterator[str]:
    """Pass lines through, turning decompression and disk failures into our errors."""
    number = 0
    with _read_errors(path, lambda: f" after line {number}"):
        for line in lines:
            number += 1
            yield line


@contextmanager
def _read_errors(path: Path, where: Callable[[], str] = str) -> Iterator[None]:
    """Decompression and disk failures as our errors, saying where they happened."""
    try:
        yield
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise ResponseFormatError(
            f"{path}: compressed data broken{where()} ({exc}); "
            "a truncated or corrupt download? fetch it again"
        ) from exc
    except OSError as exc:
        raise InputFileError(f"cannot read {path}{where()}: {exc}") from exc


BLOCK_BYTES = 1 << 26  # 64 MiB of text per vectorized block


@dataclass(frozen=True, slots=True)
class LinksTable:
    """The whole links file, columnar: what ``--all-concepts`` reads.

    ``links``: distinct (cui, uid, pmid) rows sorted by cui, uid, pmid;
    ``names``: each (uid, cui)'s name, from its first line (as group_links).
    """

    links: pa.Table
    names: dict[tuple[int, str], str | None]
    rejects: tuple[LineReject, ...]
    lines: int  # data lines read (the header not counted)


def read_links_table(
    path: Path, *, max_rejects: int = DEFAULT_MAX_REJECTS, block_bytes: int = BLOCK_BYTES
) -> LinksTable:
    """Every line of ``medgen_pubmed_lnk.txt.gz``, in blocks of Arrow arrays."""
    rejects = RejectLog(max_rejects)
    names: dict[tuple[int, str], str | None] = {}
    parts: list[pa.Table] = []
    count = 0
    for lines, first, last_unterminated in _line_blocks(path, block_bytes):
        block = link_block(lines, first, str(path), last_unterminated=last_unterminated)
        for reject in block.rejects:
            rejects.add(reject)
        _first_names(block.links, lines, first, str(path), names)
        parts.append(block.links.select(["cui", "uid", "pmid"]))
        count += len(lines)
    columns = ["cui", "uid", "pmid"]
    links = pa.concat_tables(parts) if parts else LINK_COLUMNS.empty_table().select(columns)
    distinct = links.group_by(columns, use_threads=False).aggregate([])
    ordered = distinct.sort_by([("cui", "ascending"), ("uid", "ascending"), ("pmid", "ascending")])
    return LinksTable(ordered, names, tuple(rejects.items), count)


def _first_names(
    links: pa.Table,
    lines: pa.Array,
    first: int,
    file: str,
    names: dict[tuple[int, str], str | None],
) -> None:
    """The name on each concept's first line, read by the line parser (exact)."""
    firsts = links.group_by(["uid", "cui"], use_threads=False).aggregate([("line", "min")])
    for uid, cui, number in zip(
        firsts["uid"].to_pylist(),
        firsts["cui"].to_pylist(),
        firsts["line_min"].to_pylist(),
        strict=True,
    ):
        if (uid, cui) in names:
            continue
        raw = lines[number - first].as_py()
        record = read_link_line(raw.decode("utf-8", "surrogateescape") + "\n", number, file)
        names[(uid, cui)] = record.name if isinstance(record, MedgenLink) else None


def _line_blocks(
    path: Path, block_bytes: int, check_header: Callable[[str], None] | None = None
) -> Iterator[tuple[pa.Array, int, bool]]:
    """(lines without their \\n, number of the first, whether the last had no \\n).

    ``check_header`` is given line 1 (default: it must be the links file's header).
    """
    raw = _open_raw(path)
    try:
        with _read_errors(path):
            stream: BinaryIO = (
                igzip.open(raw, "rb")  # type: ignore[no-untyped-call]
                if _is_gzip(raw, path)
                else raw
            )
            yield from _blocks(stream, path, block_bytes, check_header or _links_header(path))
    finally:
        raw.close()


line_blocks = _line_blocks  # the block reader of the other bulk files


def _links_header(path: Path) -> Callable[[str], None]:
    return lambda line: expect_header(iter([(1, line)]), LINKS_HEADER, str(path))


def _blocks(
    stream: BinaryIO, path: Path, size: int, check_header: Callable[[str], None]
) -> Iterator[tuple[pa.Array, int, bool]]:
    carry = b""
    number = 1  # the header is line 1
    header_done = False
    while True:
        chunk = stream.read(size)
        data = carry + chunk
        if not header_done:
            end = data.find(b"\n")
            if end < 0 and chunk:
                carry = data
                continue
            header = data if end < 0 else data[: end + 1]
            check_header(header.decode("utf-8", "surrogateescape"))
            data = b"" if end < 0 else data[end + 1 :]
            header_done = True
        if not chunk:
            if data:
                yield pa.array([data], pa.binary()), number + 1, True
            return
        cut = data.rfind(b"\n")
        if cut < 0:
            carry = data
            continue
        lines = data[:cut].split(b"\n")
        carry = data[cut + 1 :]
        yield pa.array(lines, pa.binary()), number + 1, False
        number += len(lines)
