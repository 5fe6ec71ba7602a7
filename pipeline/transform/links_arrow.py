"""Lines of ``medgen_pubmed_lnk.txt.gz`` to Arrow columns, vectorized.

The whole links file is 47.8 million lines: read line by line into Python
objects it costs minutes and gigabytes. Here a block of lines is one Arrow
binary array; one regex decides, in C++, which lines are plainly well-formed
(``UID|CUI|NAME|PMID|`` with ASCII digits), and those are split and cast as
arrays. Every other line goes through the line parser of
:mod:`pipeline.transform.medgen_files` (``read_link_line``), so a line means exactly
what it means to ``group_links``: the same records, the same rejects with the
same reasons and line numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.transform.medgen_files import (
    MAX_PMID,
    MAX_UID,
    LineReject,
    MedgenLink,
    read_link_line,
)


def _digits(largest: int) -> str:
    """A positive ASCII integer of no more digits than ``largest`` (a 99...9) has."""
    if str(largest).strip("9"):
        raise ValueError(f"{largest} is not 10**k - 1: no digit count expresses it")
    return f"0*[1-9][0-9]{{0,{len(str(largest)) - 1}}}"


# Plainly well-formed: a UID and a PMID that read_id accepts, a C/CN concept id, any
# name, and the closing "|". Anything else is left to the line parser, which decides.
_PLAIN = rf"^{_digits(MAX_UID)}\|CN?[0-9]+\|.*\|{_digits(MAX_PMID)}\|$"

LINK_COLUMNS = pa.schema(
    [
        pa.field("line", pa.int64(), nullable=False),
        pa.field("uid", pa.int64(), nullable=False),
        pa.field("cui", pa.string(), nullable=False),
        pa.field("pmid", pa.int64(), nullable=False),
    ]
)


@dataclass(frozen=True, slots=True)
class LinkBlock:
    """One block's readable lines (``links``: LINK_COLUMNS) and its rejects."""

    links: pa.Table
    rejects: tuple[LineReject, ...]


def link_block(
    lines: pa.Array, first_line: int, file: str, *, last_unterminated: bool = False
) -> LinkBlock:
    """Lines (binary, each without its ``\\n``) numbered from ``first_line``.

    ``last_unterminated``: the block's last line is the file's last and had no
    line break (the line parser is given each line as read from the file).
    """
    plain = pc.fill_null(pc.match_substring_regex(lines, _PLAIN), False)
    plain = pc.and_(plain, _utf8(lines))
    numbers = pa.array(range(first_line, first_line + len(lines)), pa.int64())
    fast = _split(pc.filter(lines, plain), pc.filter(numbers, plain))
    other = pc.invert(plain)
    last = first_line + len(lines) - 1 if last_unterminated else None
    slow, rejects = _one_by_one(pc.filter(lines, other), pc.filter(numbers, other), file, last)
    return LinkBlock(pa.concat_tables([fast, slow]).sort_by("line"), tuple(rejects))


def _utf8(lines: pa.Array) -> pa.Array:
    """Which lines are UTF-8: one cast for the block, line by line only when it fails."""
    try:
        pc.cast(lines, pa.string())
        return pa.array([True] * len(lines), pa.bool_())
    except pa.ArrowInvalid:
        return pa.array([_decodes(b) for b in lines.to_pylist()], pa.bool_())


def _decodes(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _split(lines: pa.Array, numbers: pa.Array) -> pa.Table:
    # Plain lines are UTF-8 (checked), with ASCII UID, CUI and PMID fields.
    text = pc.cast(lines, pa.string())
    head = pc.split_pattern(text, "|", max_splits=2)
    tail = pc.split_pattern(pc.list_element(head, 2), "|", max_splits=2, reverse=True)
    return pa.table(
        [
            numbers,
            pc.cast(pc.list_element(head, 0), pa.int64()),
            pc.list_element(head, 1),
            pc.cast(pc.list_element(tail, 1), pa.int64()),
        ],
        schema=LINK_COLUMNS,
    )


def _one_by_one(
    lines: pa.Array, numbers: pa.Array, file: str, last: int | None
) -> tuple[pa.Table, list[LineReject]]:
    records: list[tuple[int, MedgenLink]] = []
    rejects: list[LineReject] = []
    for raw, number in zip(lines.to_pylist(), numbers.to_pylist(), strict=True):
        line = raw.decode("utf-8", "surrogateescape") + ("" if number == last else "\n")
        record = read_link_line(line, number, file)
        if isinstance(record, LineReject):
            rejects.append(record)
        else:
            records.append((number, record))
    table = pa.table(
        [
            pa.array([n for n, _ in records], pa.int64()),
            pa.array([r.uid for _, r in records], pa.int64()),
            pa.array([r.cui for _, r in records], pa.string()),
            pa.array([r.pmid for _, r in records], pa.int64()),
        ],
        schema=LINK_COLUMNS,
    )
    return table, rejects
