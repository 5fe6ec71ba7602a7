"""MedGen bulk files (NCBI's ``pub/medgen/``) → typed records, lazily, one line at a time.

Formats, and what they rest on (no machine here can reach NCBI, so no real file was read):

* NCBI's ``pub/medgen/README.txt`` (a public copy dated 2019-11-15, found with the project's
  code search): the ``.RRF`` files are ``|``-delimited and their first line begins with ``#``
  and names the columns; "The line separator for RRF files is '|\\n'"; in ``MGDEF.RRF`` "some
  values in the DEF column contain internal line feeds", written as ``\\r``. Columns:
  ``NAMES.RRF`` CUI, name ("Concept name (preferred)"), source, SUPPRESS ("Suppressed by UMLS
  curators"); ``MGDEF.RRF`` CUI, DEF, source, SUPPRESS; ``medgen_pubmed_lnk.txt.gz`` UID, CUI,
  NAME, PMID, "Delimiter is '|'".
* The first lines of ``medgen_pubmed_lnk.txt`` as quoted in public code: ``#UID|CUI|NAME|PMID|``
  then rows like ``2|C0000039|1,2 Dipalmitoylphosphatidylcholine|1520723|``; the header of
  ``NAMES.RRF`` (``#CUI|name|source|SUPPRESS|``) likewise. The header of ``MGDEF.RRF``
  (``#CUI|DEF|source|SUPPRESS|``) is the brief's: no public copy was found.
* SUPPRESS values are UMLS's (its reference manual, MRCONSO): ``N`` not suppressed; ``Y``, ``E``
  and ``O`` (suppressible, editor-suppressed, obsolete) all count as suppressed.

Decisions:

* Bad lines are **rejects**, not exceptions: a 48-million-line file should not die on line
  31,000,000 for one stray record. Each :class:`LineReject` names the file, the line and the
  reason. The collecting functions keep at most ``max_rejects`` of them and then raise
  :class:`ResponseFormatError` (that many bad lines means the wrong file or a changed format);
  a missing or different header raises at once, for the same reason.
* Extra ``|`` inside a value: the links file's UID, CUI and PMID, and the RRF files' CUI,
  source and SUPPRESS, are short typed fields at fixed ends, so any extra ``|`` can only belong
  to the free text between them (NAME, name, DEF) and is kept there.
* A DEF's internal line breaks (``\\r`` as NCBI documents, ``\\n`` or ``\\r\\n`` if they occur)
  become ``\\n``. A ``MGDEF.RRF`` record is complete when it ends with ``|`` and holds at least
  four fields; a physical line that does not complete it continues it. A line that starts like
  a new record (``C…|``) while one is open ends the open one as a reject, so one broken line
  does not swallow the next record.
* NAMES.RRF has no "preferred" flag because, per the README, every row *is* the concept's
  preferred name (one per CUI in practice). If a CUI has several rows, :func:`concept_texts`
  takes the first unsuppressed one in file order, else the first row (its ``suppressed`` says
  so); every row is kept in ``names``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass

from pipeline.errors import ResponseFormatError, UsageError

LINKS_FILE = "medgen_pubmed_lnk.txt.gz"
NAMES_FILE = "NAMES.RRF.gz"
DEFINITIONS_FILE = "MGDEF.RRF.gz"

LINKS_HEADER = ("UID", "CUI", "NAME", "PMID")
NAMES_HEADER = ("CUI", "name", "source", "SUPPRESS")
DEFINITIONS_HEADER = ("CUI", "DEF", "source", "SUPPRESS")

DEFAULT_MAX_REJECTS = 100
# A definition is a paragraph or a few: a "record" longer than this is a file whose records
# stopped ending in "|", and holding it would make memory grow with the file.
MAX_RECORD_LINES = 1000
MAX_RECORD_CHARS = 1_000_000
_SHOWN = 200  # characters of a bad record kept in its reject

# The largest identifiers read. A MedGen UID has at most 12 digits (as a concept reference
# takes it); a PMID at most 9: PubMed's have 8 today, and a PMID indexes a bitmap
# (pipeline.bulk.pmidset), where one absurd PMID would cost gigabytes.
MAX_UID = 10**12 - 1
MAX_PMID = 10**9 - 1

_CUI = re.compile(r"CN?\d+")  # C0000039 (from UMLS) or CN169374 (made by NCBI)
_RECORD_START = re.compile(r"CN?\d+\|")
_SUPPRESSED = {"N": False, "Y": True, "E": True, "O": True}
_LINE_BREAK = re.compile(r"\r\n?")


@dataclass(frozen=True, slots=True)
class MedgenLink:
    """One concept-citation line of ``medgen_pubmed_lnk.txt.gz``."""

    uid: int
    cui: str
    name: str | None
    pmid: int


@dataclass(frozen=True, slots=True)
class MedgenName:
    """One row of ``NAMES.RRF``: a concept's preferred name and the source it comes from."""

    cui: str
    name: str
    source: str | None
    suppressed: bool


@dataclass(frozen=True, slots=True)
class MedgenDefinition:
    """One record of ``MGDEF.RRF`` (possibly several physical lines)."""

    cui: str
    text: str
    source: str | None
    suppressed: bool


@dataclass(frozen=True, slots=True)
class LineReject:
    """A record that could not be read: where it starts, why, and (the start of) its text."""

    file: str
    line: int  # 1-based physical line; the header is line 1
    reason: str
    text: str

    def __str__(self) -> str:
        return f"{self.file} line {self.line}: {self.reason}: {self.text!r}"


@dataclass(frozen=True, slots=True)
class ConceptLinks:
    """The citations of one requested concept, from the links file."""

    uid: int
    cui: str
    name: str | None
    pmids: tuple[int, ...]  # distinct, ascending


@dataclass(frozen=True, slots=True)
class LinkScan:
    concepts: tuple[ConceptLinks, ...]  # sorted by CUI, then UID
    missing: tuple[str, ...]  # requested CUIs and UIDs with no line in the file
    rejects: tuple[LineReject, ...]
    lines: int  # data lines read (the header not counted)


@dataclass(frozen=True, slots=True)
class ConceptText:
    """Names and definitions of one requested concept, from NAMES.RRF and MGDEF.RRF."""

    cui: str
    preferred: MedgenName | None
    names: tuple[MedgenName, ...]  # file order
    definitions: tuple[MedgenDefinition, ...]  # file order, each with its source


@dataclass(frozen=True, slots=True)
class TextScan:
    concepts: tuple[ConceptText, ...]  # sorted by CUI
    missing: tuple[str, ...]  # requested CUIs in neither file
    rejects: tuple[LineReject, ...]


# ---------------------------------------------------------------- parsers


def parse_links(
    lines: Iterable[str], *, file: str = LINKS_FILE
) -> Iterator[MedgenLink | LineReject]:
    """Every line of the links file after its header, as a link or a reject."""
    numbered = enumerate(lines, start=1)
    expect_header(numbered, LINKS_HEADER, file)
    for number, line in numbered:
        yield read_link_line(line, number, file)


def parse_names(
    lines: Iterable[str], *, file: str = NAMES_FILE
) -> Iterator[MedgenName | LineReject]:
    numbered = enumerate(lines, start=1)
    expect_header(numbered, NAMES_HEADER, file)
    for number, line in numbered:
        yield _name(line, number, file)


def parse_definitions(
    lines: Iterable[str],
    *,
    file: str = DEFINITIONS_FILE,
    max_record_lines: int = MAX_RECORD_LINES,
) -> Iterator[MedgenDefinition | LineReject]:
    """Records of MGDEF.RRF, joining the physical lines of multi-line definitions."""
    numbered = enumerate(lines, start=1)
    expect_header(numbered, DEFINITIONS_HEADER, file)
    pending: list[str] = []
    start = size = pipes = 0
    for number, line in numbered:
        if pending and _RECORD_START.match(line):
            reason = "record does not end with '|' before a new record starts"
            yield _reject(file, start, reason, pending)
            pending = []
        if not pending:
            start, size, pipes = number, 0, 0
        pending.append(line)
        size += len(line)
        pipes += line.count("|")
        # Complete: ends with '|' and holds CUI, DEF, source and SUPPRESS (four '|' at least).
        if pipes >= 4 and _strip_eol(line).endswith("|"):
            yield _definition("".join(pending), start, file)
            pending = []
        elif len(pending) >= max_record_lines or size >= MAX_RECORD_CHARS:
            reason = f"record not complete after {len(pending)} lines ({size} characters)"
            yield _reject(file, start, reason, pending)
            pending = []
    if pending:
        yield _reject(file, start, "file ends inside a record", pending)


# ---------------------------------------------------------------- one record


def read_link_line(line: str, number: int, file: str) -> MedgenLink | LineReject:
    fields = _fields(line)
    if isinstance(fields, str):
        return _bad(file, number, line, fields)
    if len(fields) < 4:
        return _bad(file, number, line, f"expected UID|CUI|NAME|PMID|, found {len(fields)} fields")
    uid_text, cui, *name_parts, pmid_text = fields
    uid, pmid = read_id("UID", uid_text, MAX_UID), read_id("PMID", pmid_text, MAX_PMID)
    if isinstance(uid, str):
        return _bad(file, number, line, uid)
    if isinstance(pmid, str):
        return _bad(file, number, line, pmid)
    if problem := _cui_problem(cui):
        return _bad(file, number, line, problem)
    return MedgenLink(uid=uid, cui=cui, name=_text("|".join(name_parts)), pmid=pmid)


def _name(line: str, number: int, file: str) -> MedgenName | LineReject:
    fields = _fields(line)
    if isinstance(fields, str):
        return _bad(file, number, line, fields)
    if len(fields) < 4:
        reason = f"expected CUI|name|source|SUPPRESS|, found {len(fields)} fields"
        return _bad(file, number, line, reason)
    cui, *name_parts, source, suppress = fields
    name = _text("|".join(name_parts))
    if problem := _cui_problem(cui) or _suppress_problem(suppress):
        return _bad(file, number, line, problem)
    if name is None:
        return _bad(file, number, line, "empty name")
    return MedgenName(cui=cui, name=name, source=_text(source), suppressed=_SUPPRESSED[suppress])


def _definition(record: str, start: int, file: str) -> MedgenDefinition | LineReject:
    fields = _fields(record)
    if isinstance(fields, str):
        return _bad(file, start, record, fields)
    cui, *def_parts, source, suppress = fields  # the caller made sure of four fields
    text = _text(_LINE_BREAK.sub("\n", "|".join(def_parts)))
    if problem := _cui_problem(cui) or _suppress_problem(suppress):
        return _bad(file, start, record, problem)
    if text is None:
        return _bad(file, start, record, "empty definition")
    return MedgenDefinition(
        cui=cui, text=text, source=_text(source), suppressed=_SUPPRESSED[suppress]
    )


def _fields(line: str) -> list[str] | str:
    """The fields of a '|'-terminated line, or why it is not one."""
    body = _strip_eol(line)
    if not body:
        return "empty line"
    if not body.isascii() and not _is_utf8(body):
        return "not UTF-8 (undecodable bytes)"
    if not body.endswith("|"):
        return "does not end with '|'"
    return body[:-1].split("|")


def _strip_eol(line: str) -> str:
    if line.endswith("\r\n"):
        return line[:-2]
    return line[:-1] if line.endswith("\n") else line


def _is_utf8(text: str) -> bool:
    """False when the adapter kept undecodable bytes as surrogate escapes."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def read_id(label: str, text: str, largest: int) -> int | str:
    """``text`` as an identifier from 1 to ``largest`` (leading zeros allowed), or why not.

    The one rule for a UID or PMID of the links file, whichever reader reads it.
    """
    # isascii first: str.isdigit() accepts "²", which int() refuses.
    if not (text.isascii() and text.isdigit()) or not text.strip("0"):
        return f"{label} {_clipped(text)!r} is not a positive integer"
    digits = text.lstrip("0")
    # Length first: int() of thousands of digits is refused (and slow).
    if len(digits) > len(str(largest)) or int(digits) > largest:
        return f"{label} {_clipped(text)!r} ({len(digits)} digits) is larger than {largest}"
    return int(digits)


def _clipped(text: str) -> str:
    return text if len(text) <= 24 else text[:24] + "..."


def _cui_problem(cui: str) -> str | None:
    return None if _CUI.fullmatch(cui) else f"CUI {cui!r} is not a MedGen concept id (C… or CN…)"


def _suppress_problem(value: str) -> str | None:
    return None if value in _SUPPRESSED else f"SUPPRESS {value!r} is not one of N, Y, E, O"


def _text(value: str) -> str | None:
    return value.strip() or None


def _shown(text: str) -> str:
    return text[:_SHOWN]


def _bad(file: str, number: int, text: str, reason: str) -> LineReject:
    return LineReject(file, number, reason, _shown(_strip_eol(text)))


def _reject(file: str, start: int, reason: str, lines: list[str]) -> LineReject:
    return _bad(file, start, "".join(lines), reason)


def expect_header(numbered: Iterator[tuple[int, str]], columns: tuple[str, ...], file: str) -> None:
    """Consume line 1 and refuse a file whose header is not ``columns``."""
    expected = "#" + "|".join(columns) + "|"
    first = next(numbered, None)
    if first is None:
        raise ResponseFormatError(f"{file}: empty file, expected the header {expected!r}")
    found = _strip_eol(first[1]).rstrip()
    if found.lower() != expected.lower():
        raise ResponseFormatError(
            f"{file} line 1: expected the header {expected!r}, found {_shown(found)!r}"
        )


# ---------------------------------------------------------------- collecting


class RejectLog:
    """Rejects kept up to a limit; past it the file is refused as a whole."""

    def __init__(self, limit: int) -> None:
        self.items: list[LineReject] = []
        self._limit = limit

    def add(self, reject: LineReject) -> None:
        self.items.append(reject)
        if len(self.items) > self._limit:
            raise ResponseFormatError(
                f"{reject.file}: more than {self._limit} malformed lines, giving up "
                f"(first: {self.items[0]}); is it the right file?"
            )


def group_links(
    lines: Iterable[str],
    *,
    cuis: Collection[str] = (),
    uids: Collection[int] = (),
    file: str = LINKS_FILE,
    max_rejects: int = DEFAULT_MAX_REJECTS,
) -> LinkScan:
    """One streaming pass over the links file, keeping only the requested concepts.

    A line is fully read only when its UID or CUI field is one asked for: lines of other
    concepts are not validated. Validating them costs 17 times the time (measured: 2.1 s
    against 0.12 s per million lines, so about 100 s against 6 s for the whole file);
    :func:`parse_links` checks every line when that is wanted.
    """
    want_cuis, want_uids = frozenset(cuis), frozenset(str(u) for u in uids)
    if not want_cuis and not want_uids:
        raise UsageError("group_links needs at least one CUI or UID to look for")
    numbered = enumerate(lines, start=1)
    expect_header(numbered, LINKS_HEADER, file)
    groups: dict[tuple[int, str], tuple[str | None, set[int]]] = {}
    rejects = RejectLog(max_rejects)
    count = 0
    for count, line in numbered:
        head = line.split("|", 2)
        if head[0] not in want_uids and (len(head) < 2 or head[1] not in want_cuis):
            continue
        record = read_link_line(line, count, file)
        if isinstance(record, LineReject):
            rejects.add(record)
            continue
        groups.setdefault((record.uid, record.cui), (record.name, set()))[1].add(record.pmid)
    return _link_scan(groups, want_cuis, want_uids, rejects, max(count - 1, 0))


def _link_scan(
    groups: dict[tuple[int, str], tuple[str | None, set[int]]],
    want_cuis: frozenset[str],
    want_uids: frozenset[str],
    rejects: RejectLog,
    lines: int,
) -> LinkScan:
    concepts = tuple(
        ConceptLinks(uid=uid, cui=cui, name=name, pmids=tuple(sorted(pmids)))
        for (uid, cui), (name, pmids) in sorted(groups.items(), key=lambda kv: kv[0][::-1])
    )
    found_cuis = {c.cui for c in concepts}
    found_uids = {str(c.uid) for c in concepts}
    missing = sorted(want_cuis - found_cuis) + sorted(want_uids - found_uids, key=int)
    return LinkScan(concepts, tuple(missing), tuple(rejects.items), lines)


def concept_texts(
    names: Iterable[MedgenName | LineReject],
    definitions: Iterable[MedgenDefinition | LineReject],
    cuis: Collection[str],
    *,
    max_rejects: int = DEFAULT_MAX_REJECTS,
) -> TextScan:
    """Names and definitions of the requested CUIs: one pass over each file's records."""
    want = frozenset(cuis)
    if not want:
        raise UsageError("concept_texts needs at least one CUI to look for")
    found_names: dict[str, list[MedgenName]] = {}
    found_defs: dict[str, list[MedgenDefinition]] = {}
    name_rejects, def_rejects = RejectLog(max_rejects), RejectLog(max_rejects)
    for n in names:
        if isinstance(n, LineReject):
            name_rejects.add(n)
        elif n.cui in want:
            found_names.setdefault(n.cui, []).append(n)
    for d in definitions:
        if isinstance(d, LineReject):
            def_rejects.add(d)
        elif d.cui in want:
            found_defs.setdefault(d.cui, []).append(d)
    concepts = tuple(
        ConceptText(
            cui=cui,
            preferred=preferred_name(found_names.get(cui, ())),
            names=tuple(found_names.get(cui, ())),
            definitions=tuple(found_defs.get(cui, ())),
        )
        for cui in sorted(found_names.keys() | found_defs.keys())
    )
    missing = tuple(sorted(want - found_names.keys() - found_defs.keys()))
    return TextScan(concepts, missing, tuple(name_rejects.items + def_rejects.items))


def preferred_name(names: Iterable[MedgenName]) -> MedgenName | None:
    """The first unsuppressed row, else the first row (see the module docstring)."""
    rows = list(names)
    return next((n for n in rows if not n.suppressed), rows[0] if rows else None)
