"""ORCID iDs: any written form to ``0000-0000-0000-000X``, check digit verified."""

from __future__ import annotations

import re

_URL = re.compile(r"^(?:https?://)?(?:www\.)?orcid\.org/", re.IGNORECASE)
# ASCII digits only: \d would also take other scripts' digits.
_BARE = re.compile(r"^[0-9]{15}[0-9X]$")
_SEPARATORS = re.compile(r"[\s-]")
# The hyphenated iD, bare or after the https://orcid.org/ prefix: the general
# path below would give the same answer, only slower.
_PLAIN = re.compile(r"(?:https://orcid\.org/)?([0-9]{4})-([0-9]{4})-([0-9]{4})-([0-9]{3}[0-9X])")
# An iD written inside free text: four groups of four, hyphens or spaces optional,
# not glued to other digits or letters.
_EMBEDDED = re.compile(
    r"(?<![0-9A-Za-z])([0-9]{4}[- ]?[0-9]{4}[- ]?[0-9]{4}[- ]?[0-9]{3}[0-9Xx])(?![0-9A-Za-z])"
)
# How far before an embedded iD the word "orcid" (or an orcid.org URL) may be.
_LABEL_WINDOW = 40


def orcid_check_digit(first15: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 15 digits."""
    total = 0
    for ch in first15:
        total = (total + int(ch)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def normalize_orcid(raw: str | None) -> str | None:
    """The canonical hyphenated ORCID iD, or None if malformed or mistyped.

    PubMed sends bare digits, hyphenated digits and orcid.org URLs; a wrong
    check digit means a typo upstream, and a typo'd iD names someone else.
    Idempotent: a canonical iD normalizes to itself.
    """
    if raw is None:
        return None
    plain = _PLAIN.fullmatch(raw)
    if plain is not None:  # how PubMed nearly always writes it: no rewriting needed
        bare = "".join(plain.groups())
        return None if orcid_check_digit(bare[:15]) != bare[15] else "-".join(plain.groups())
    return normalize_orcid_any(raw)


def normalize_orcid_any(raw: str) -> str | None:
    """normalize_orcid for any written form (the general path, without the shortcut)."""
    text = _URL.sub("", raw.strip()).rstrip("/")
    bare = _SEPARATORS.sub("", text).upper()
    if not _BARE.fullmatch(bare) or orcid_check_digit(bare[:15]) != bare[15]:
        return None
    return "-".join(bare[i : i + 4] for i in range(0, 16, 4))


def orcid_in_text(text: str | None, owner: str | None = None) -> str | None:
    """The ORCID iD written inside free text (e.g. an affiliation), if it is unambiguous.

    Only an iD labelled as one counts: the word ``ORCID`` (or an ``orcid.org/``
    URL) must come shortly before it (``... ORCID: 0000-0002-1825-0097``,
    ``https://orcid.org/0000-0002-1825-0097``); an unlabelled 16-digit number
    could be anything, and a wrong check digit is skipped. PubMed sometimes puts
    a whole author note naming several people and their iDs into the first
    author's affiliation: with more than one distinct iD, the one whose stretch of
    text (since the previous iD) names ``owner`` (a last name) is taken, and
    without exactly one such iD none is.
    """
    # Most affiliations name no ORCID: one quick scan. Only a window whose
    # lower-cased text holds "orcid" counts below, so this loses nothing.
    if not text or "orcid" not in text.lower():
        return None
    found: list[tuple[str, str]] = []  # (iD, the text since the previous iD)
    segment_start = 0
    for match in _EMBEDDED.finditer(text):
        before = text[max(0, match.start() - _LABEL_WINDOW) : match.start()].lower()
        orcid = normalize_orcid(match.group(1)) if "orcid" in before else None
        if orcid is not None:
            found.append((orcid, text[segment_start : match.start()]))
            segment_start = match.end()
    distinct = {orcid for orcid, _ in found}
    if len(distinct) == 1:
        return found[0][0]
    if not distinct or not owner:
        return None
    named = re.compile(rf"(?<!\w){re.escape(owner)}(?!\w)", re.IGNORECASE)
    owned = {orcid for orcid, segment in found if named.search(segment)}
    return owned.pop() if len(owned) == 1 else None
