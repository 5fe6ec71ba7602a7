"""DOI normalisation and choice between the record's DOI sources.

A DOI is kept twice: ``key`` (lower case, for joins: DOIs are case-insensitive)
and ``display`` (the publisher's case, for people). Anything that does not look
like a DOI after the known wrappers are removed is dropped, never repaired.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_DOI = re.compile(r"^10\.\d{4,9}/\S+$")
# Wrappers seen around DOIs in the wild: "doi:" labels and resolver URLs.
_PREFIX = re.compile(
    r"^(?:doi:\s*|(?:https?://)?(?:dx\.)?doi\.org/)",
    re.IGNORECASE,
)
_TRAILING = ".,;"


@dataclass(frozen=True, slots=True)
class Doi:
    key: str
    display: str
    source: str


def clean_doi(raw: str | None) -> str | None:
    """The DOI in published case with wrappers removed, or None if not a DOI.

    Wrappers are removed until none is left, so the function is idempotent
    (``clean_doi(clean_doi(x)) == clean_doi(x)``) and copes with stacked
    prefixes such as ``doi: https://doi.org/10...``.
    """
    if raw is None:
        return None
    text = raw.strip()
    while True:
        stripped = _PREFIX.sub("", text, count=1).strip().rstrip(_TRAILING).strip()
        if stripped == text:
            break
        text = stripped
    return text if _DOI.fullmatch(text) else None


def doi_key(display: str) -> str:
    """The join key of a cleaned DOI."""
    return display.lower()


def pick_doi(candidates: Iterable[tuple[str, str | None]]) -> Doi | None:
    """The first valid DOI among ``(source, raw)`` pairs, in the order given."""
    for source, raw in candidates:
        display = clean_doi(raw)
        if display is not None:
            return Doi(key=doi_key(display), display=display, source=source)
    return None
