"""DOI normalisation and choice between the record's DOI sources.

A DOI is kept twice: ``key`` (lower case, for joins: DOIs are case-insensitive)
and ``display`` (the publisher's case, for people). Anything that does not look
like a DOI after the known wrappers are removed is dropped, never repaired.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# ASCII digits only: \d would also take other scripts' digits.
_DOI = re.compile(r"^10\.[0-9]{4,9}/\S+$")
# Wrappers seen around DOIs in the wild: "doi:" labels and resolver URLs.
_PREFIX = re.compile(
    r"^(?:doi:\s*|(?:https?://)?(?:dx\.)?doi\.org/)",
    re.IGNORECASE,
)
_TRAILING = ".,;"


# How each source is named in a problem text.
SOURCE_LABELS = {"elocation": "ELocationID", "articleidlist": "ArticleIdList"}


@dataclass(frozen=True, slots=True)
class Doi:
    key: str
    display: str
    source: str


@dataclass(frozen=True, slots=True)
class DoiChoice:
    """The record's DOI, a disagreeing second one, and why candidates were refused."""

    doi: Doi | None = None
    alternate: str | None = None
    problems: tuple[str, ...] = ()

    @property
    def conflict(self) -> bool:
        return self.alternate is not None

    @property
    def problem(self) -> str | None:
        return "; ".join(self.problems) or None


def clean_doi(raw: str | None) -> str | None:
    """The DOI in published case with wrappers removed, or None if not a DOI.

    Wrappers are removed until none is left, so the function is idempotent
    (``clean_doi(clean_doi(x)) == clean_doi(x)``) and copes with stacked
    prefixes such as ``doi: https://doi.org/10...``.
    """
    if raw is None:
        return None
    text = raw.strip()
    if text[:3] == "10." and text[-1] not in _TRAILING and _DOI.fullmatch(text):
        return text  # most DOIs, in reference lists by the dozen: nothing to remove
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


def doi_problem(source: str, raw: str) -> str:
    """``ELocationID doi 'abc' is not a DOI``."""
    label = SOURCE_LABELS.get(source, source)
    return f"{label} doi {raw.strip()!r} is not a DOI"


def choose_doi(candidates: Iterable[tuple[str, str | None]]) -> DoiChoice:
    """The first valid DOI among ``(source, raw)`` pairs, in the order given.

    The first valid candidate whose key differs from the chosen one becomes the
    ``alternate`` (a conflict); a non-blank candidate that is not a DOI is named
    in ``problems``. Blank or missing candidates are no problem.
    """
    chosen: Doi | None = None
    alternate: str | None = None
    problems: list[str] = []
    for source, raw in candidates:
        if raw is None or not raw.strip():
            continue
        display = clean_doi(raw)
        if display is None:
            problems.append(doi_problem(source, raw))
        elif chosen is None:
            chosen = Doi(key=doi_key(display), display=display, source=source)
        elif alternate is None and doi_key(display) != chosen.key:
            alternate = doi_key(display)
    return DoiChoice(doi=chosen, alternate=alternate, problems=tuple(problems))
