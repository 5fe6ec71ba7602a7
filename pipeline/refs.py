"""Concept references as users type them: a MedGen UID, a CUI, or a name.

Validated before any request: a reference never becomes a path, and names
are bounded and free of control characters.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from pipeline.errors import UsageError
from pipeline.models import ConceptRef

_UID = re.compile(r"^[1-9][0-9]{0,11}$")
_CUI = re.compile(r"^(C|CN)[0-9]{1,10}$")
MAX_NAME = 200


def parse_concept_ref(text: str) -> ConceptRef:
    value = text.strip()
    if not value:
        raise UsageError("empty concept reference")
    if _UID.match(value):
        return ConceptRef("uid", value)
    if _CUI.match(value.upper()):
        return ConceptRef("cui", value.upper())
    return ConceptRef("name", _check_name(value))


def _check_name(value: str) -> str:
    if len(value) > MAX_NAME:
        raise UsageError(f"concept name longer than {MAX_NAME} characters: {value[:40]!r}...")
    if any(unicodedata.category(ch).startswith("C") for ch in value):
        raise UsageError(f"concept reference {value!r} contains control characters")
    if value.startswith(("/", ".")) or "/" in value or "\\" in value:
        raise UsageError(
            f"concept reference {value!r} looks like a path: give a CUI (C1234567), "
            "a MedGen UID, or a concept name"
        )
    return value


def parse_concepts_file(text: str, origin: str) -> list[ConceptRef]:
    """One reference per line; blank lines and ``#`` comments are skipped."""
    refs = []
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        try:
            refs.append(parse_concept_ref(content))
        except UsageError as exc:
            raise UsageError(f"{origin}:{number}: {exc}") from exc
    return refs


def unique(refs: Iterable[ConceptRef]) -> tuple[ConceptRef, ...]:
    return tuple(dict.fromkeys(refs))
