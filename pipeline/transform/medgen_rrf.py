"""Blocks of lines of MedGen's concept files → Arrow columns, vectorized.

The files (NCBI ``pub/medgen/`` and Gene's ``mim2gene_medgen``; their columns as
NCBI's READMEs give them) are big: MGREL.RRF holds millions of rows. As with the
links file (:mod:`pipeline.transform.links_arrow`), a block of lines is one
Arrow binary array; it is decoded, split on the delimiter and checked in C++
(field count, CUIs, integers); only the lines that fail are looked at one by
one, to say why, by number. A line that cannot be read is a
:class:`LineReject`, never dropped unsaid.

Conventions: ``.RRF`` and the ``|`` text files end every line with ``|`` and
name their columns on line 1 after a ``#``; ``mim2gene_medgen`` is tab-separated
with no closing tab and writes ``-`` for "none". An empty field (or ``-`` there)
is null. A ``\\r`` before the line break is not part of the last field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.errors import ResponseFormatError
from pipeline.transform.links_arrow import _utf8
from pipeline.transform.medgen_files import LineReject

_CUI = r"^CN?[0-9]+$"
_INT = r"^[0-9]{1,18}$"
_SHOWN = 200


def _columns(names: str) -> tuple[str, ...]:
    return tuple(names.split())


@dataclass(frozen=True, slots=True)
class FileSpec:
    """One file's layout: its columns in order, how they are delimited, what is checked."""

    name: str  # as NCBI publishes it
    columns: tuple[str, ...]
    delimiter: str = "|"
    terminated: bool = True  # every line (and the header) ends with the delimiter
    nulls: tuple[str, ...] = ("",)
    cui_columns: tuple[str, ...] = ()  # must be C… or CN… (or null)
    int_columns: tuple[str, ...] = ()  # non-negative integers (or null), read as int64
    required: tuple[str, ...] = field(default=())  # never null

    @property
    def header(self) -> str:
        return "#" + self.delimiter.join(self.columns) + (self.delimiter if self.terminated else "")


MGCONSO = FileSpec(
    "MGCONSO.RRF.gz",
    _columns("CUI TS STT ISPREF AUI SAUI SCUI SDUI SAB TTY CODE STR SUPPRESS"),
    cui_columns=("CUI",),
    required=("CUI", "STR"),
)
MGSTY = FileSpec(
    "MGSTY.RRF.gz", ("CUI", "TUI", "STN", "STY", "ATUI"), cui_columns=("CUI",), required=("CUI",)
)
MGREL = FileSpec(
    "MGREL.RRF.gz",
    ("CUI1", "AUI1", "STYPE1", "REL", "CUI2", "AUI2", "RELA", "RUI", "SAB", "SL", "SUPPRESS"),
    cui_columns=("CUI1", "CUI2"),
    required=("CUI1", "REL", "CUI2"),
)
HPO_OMIM = FileSpec(
    "MedGen_HPO_OMIM_Mapping.txt.gz",
    tuple(
        [
            "OMIM_CUI",
            "MIM_number",
            "OMIM_name",
            "relationship",
            "HPO_CUI",
            "HPO_Id",
            "MedGen_name",
            "MedGen_source",
            "STY",
        ]
    ),
    cui_columns=("OMIM_CUI", "HPO_CUI"),
    required=("OMIM_CUI", "HPO_CUI"),
)
MIM2GENE = FileSpec(
    "mim2gene_medgen",
    ("MIM number", "GeneID", "type", "Source", "MedGenCUI", "Comment"),
    delimiter="\t",
    terminated=False,
    nulls=("", "-"),
    cui_columns=("MedGenCUI",),
    int_columns=("GeneID",),
)


def check_header(spec: FileSpec, line: str, file: str) -> None:
    """Refuse a file whose line 1 is not the header its columns make."""
    found = line.rstrip("\r\n").rstrip()
    if found.lower() != spec.header.lower():
        raise ResponseFormatError(
            f"{file} line 1: expected the header {spec.header!r} of {spec.name}, "
            f"found {found[:_SHOWN]!r}"
        )


@dataclass(frozen=True, slots=True)
class RowBlock:
    """One block's readable rows (``line`` then the spec's columns) and its rejects."""

    rows: pa.Table
    rejects: tuple[LineReject, ...]


def read_block(spec: FileSpec, lines: pa.Array, first_line: int, file: str) -> RowBlock:
    """Lines (binary, each without its ``\\n``) numbered from ``first_line``."""
    numbers = pa.array(range(first_line, first_line + len(lines)), pa.int64())
    utf8 = _utf8(lines)
    text = pc.utf8_rtrim(pc.cast(pc.if_else(utf8, lines, b""), pa.string()), "\r")
    parts = pc.split_pattern(text, spec.delimiter)
    width = len(spec.columns) + (1 if spec.terminated else 0)
    shaped = pc.equal(pc.list_value_length(parts), width)
    if spec.terminated:
        shaped = pc.and_(shaped, pc.ends_with(text, spec.delimiter))
    shaped = pc.and_(shaped, utf8)
    good = pc.filter(parts, shaped)
    columns = {c: _nulled(pc.list_element(good, i), spec.nulls) for i, c in enumerate(spec.columns)}
    valid = _valid(spec, columns, len(good))
    rows = pa.table(
        {
            "line": pc.filter(pc.filter(numbers, shaped), valid),
            **{c: _typed(c, pc.filter(a, valid), spec) for c, a in columns.items()},
        }
    )
    rejects = _rejects(spec, lines, numbers, shaped, valid, columns, file)
    return RowBlock(rows, tuple(rejects))


def _nulled(values: pa.Array, nulls: tuple[str, ...]) -> pa.Array:
    is_null = pc.is_in(values, pa.array(nulls, pa.string()))
    return pc.if_else(is_null, pa.scalar(None, pa.string()), values)


def _valid(spec: FileSpec, columns: dict[str, pa.Array], size: int) -> pa.Array:
    ok = pa.array([True] * size, pa.bool_())
    for name in spec.required:
        ok = pc.and_(ok, pc.is_valid(columns[name]))
    for name in spec.cui_columns:
        ok = pc.and_(ok, _null_or_matches(columns[name], _CUI))
    for name in spec.int_columns:
        ok = pc.and_(ok, _null_or_matches(columns[name], _INT))
    return ok


def _null_or_matches(values: pa.Array, pattern: str) -> pa.Array:
    return pc.fill_null(pc.match_substring_regex(values, pattern), True)


def _typed(name: str, values: pa.Array, spec: FileSpec) -> pa.Array:
    return pc.cast(values, pa.int64()) if name in spec.int_columns else values


def _rejects(
    spec: FileSpec,
    lines: pa.Array,
    numbers: pa.Array,
    shaped: pa.Array,
    valid: pa.Array,
    columns: dict[str, pa.Array],
    file: str,
) -> list[LineReject]:
    """Why each bad line is bad, in line order (the few bad lines, one by one)."""
    out: list[tuple[int, LineReject]] = []
    misshapen = pc.indices_nonzero(pc.invert(shaped))
    for line, number in zip(
        pc.take(lines, misshapen).to_pylist(), pc.take(numbers, misshapen).to_pylist(), strict=True
    ):
        out.append((number, _reject(file, number, line, _shape_problem(spec, line))))
    if not pc.all(valid).as_py():
        kept = pc.filter(numbers, shaped)
        for index in pc.indices_nonzero(pc.invert(valid)).to_pylist():
            values = {c: a[index].as_py() for c, a in columns.items()}
            number = kept[index].as_py()
            line = lines[number - numbers[0].as_py()].as_py()
            out.append((number, _reject(file, number, line, _value_problem(spec, values))))
    return [r for _, r in sorted(out, key=lambda p: p[0])]


def _shape_problem(spec: FileSpec, line: bytes) -> str:
    try:
        text = line.decode("utf-8").rstrip("\r")
    except UnicodeDecodeError:
        return "not UTF-8 (undecodable bytes)"
    if not text:
        return "empty line"
    if spec.terminated and not text.endswith(spec.delimiter):
        return f"does not end with {spec.delimiter!r}"
    fields = text.count(spec.delimiter) + (0 if spec.terminated else 1)
    return f"expected {len(spec.columns)} fields ({spec.header[1:]}), found {fields}"


def _value_problem(spec: FileSpec, values: dict[str, str | None]) -> str:
    for name in spec.required:
        if values[name] is None:
            return f"empty {name}"
    for name in spec.cui_columns:
        if (value := values[name]) is not None and not re.match(_CUI, value):
            return f"{name} {value!r} is not a MedGen concept id (C… or CN…)"
    for name in spec.int_columns:
        if (value := values[name]) is not None and not re.match(_INT, value):
            return f"{name} {value!r} is not a non-negative integer"
    return "unreadable"


def _reject(file: str, number: int, line: bytes | str, reason: str) -> LineReject:
    text = line if isinstance(line, str) else line.decode("utf-8", "replace")
    return LineReject(file, number, reason, text[:_SHOWN])
