"""Concept references as users type them: a MedGen UID, a CUI, or a name.

Validated before any request: a reference never becomes a path, and names
are bounded and free of control characters. A name is searched as a quoted
phrase (:func:`search_phrase`) and must mean exactly that phrase to esearch:
Entrez has no escape for a double quote inside a phrase, so a name holding
one (or any other character that is search syntax there) is refused rather
than searched as something else.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from pipeline.errors import UsageError
from pipeline.models import ConceptRef

_UID = re.compile(r"[1-9][0-9]{0,11}")
_CUI = re.compile(r"(C|CN)[0-9]{1,10}")
MAX_NAME = 200
# Search syntax inside a quoted Entrez phrase: '"' ends it (there is no escape), '*' is a
# wildcard even there (PubMed's "breast feed*"), and '[' ']' open and close a field tag.
_PHRASE_SYNTAX = frozenset('"*[]')
# Entrez's operators are capitals only. PubMed drops the quotes of a phrase it does not
# know and reads the words as a query, so a name holding one of these would become one.
_OPERATORS = re.compile(r"\b(AND|OR|NOT)\b")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def parse_concept_ref(text: str) -> ConceptRef:
    value = text.strip()
    if not value:
        raise UsageError("empty concept reference")
    if _UID.fullmatch(value):
        return ConceptRef("uid", value)
    if _CUI.fullmatch(value.upper()):
        return ConceptRef("cui", value.upper())
    return ConceptRef("name", _check_name(value))


def _check_name(value: str) -> str:
    if len(value) > MAX_NAME:
        raise UsageError(f"concept name longer than {MAX_NAME} characters: {value[:40]!r}...")
    # Line and paragraph separators (Zl, Zp) break a line as control characters do.
    if any(unicodedata.category(ch)[0] == "C" or ch in "\u2028\u2029" for ch in value):
        raise UsageError(f"concept reference {value!r} contains control characters")
    if value.startswith(("/", ".")) or "/" in value or "\\" in value:
        raise UsageError(
            f"concept reference {value!r} looks like a path: give a CUI (C1234567), "
            "a MedGen UID, or a concept name"
        )
    if problem := _phrase_problem(value):
        raise UsageError(
            f"concept name {value!r} cannot be searched as a name: {problem}; "
            "give its CUI (C1234567) or MedGen UID instead"
        )
    return value


def _phrase_problem(name: str) -> str | None:
    syntax = sorted(set(name) & _PHRASE_SYNTAX)
    if syntax:
        return f"it holds {' '.join(syntax)}, which esearch reads as search syntax"
    if operator := _OPERATORS.search(name):
        return f"it holds {operator.group()!r}, which esearch reads as an operator"
    return None


def search_phrase(name: str) -> str:
    """The esearch term for a concept name: the name as one quoted phrase, nothing else."""
    if problem := _phrase_problem(name):
        raise UsageError(f"concept name {name!r} cannot be searched as a name: {problem}")
    return f'"{name}"'


def read_concepts_file(data: bytes, origin: str) -> list[ConceptRef]:
    """A concepts file's bytes: UTF-8 (a leading byte-order mark is dropped)."""
    if data.startswith(_UTF16_BOMS):
        raise UsageError(
            f"{origin}:1: the file is UTF-16 (it starts with a UTF-16 byte-order "
            "mark); save it as UTF-8"
        )
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise UsageError(
            f"{origin}:{line}: not UTF-8 (byte {exc.start}: {exc.reason}); save the file as UTF-8"
        ) from exc
    return parse_concepts_file(text, origin)


def parse_concepts_file(text: str, origin: str) -> list[ConceptRef]:
    """One reference per line; blank lines and ``#`` comments are skipped.

    Lines end at "\n" only (as editors count them): any other line or page break is
    a control character of that line, reported with its number.
    """
    refs = []
    for number, line in enumerate(text.split("\n"), start=1):
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        if "\x00" in content:
            raise UsageError(f"{origin}:{number}: NUL bytes (is the file UTF-16? save it as UTF-8)")
        try:
            refs.append(parse_concept_ref(content))
        except UsageError as exc:
            raise UsageError(f"{origin}:{number}: {exc}") from exc
    return refs


def unique(refs: Iterable[ConceptRef]) -> tuple[ConceptRef, ...]:
    return tuple(dict.fromkeys(refs))
