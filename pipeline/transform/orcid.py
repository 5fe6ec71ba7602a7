"""ORCID iDs: any written form to ``0000-0000-0000-000X``, check digit verified."""

from __future__ import annotations

import re

_URL = re.compile(r"^(?:https?://)?(?:www\.)?orcid\.org/", re.IGNORECASE)
_BARE = re.compile(r"^\d{15}[\dX]$")


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
    """
    if raw is None:
        return None
    text = _URL.sub("", raw.strip()).rstrip("/")
    bare = re.sub(r"[\s-]", "", text).upper()
    if not _BARE.fullmatch(bare) or orcid_check_digit(bare[:15]) != bare[15]:
        return None
    return "-".join(bare[i : i + 4] for i in range(0, 16, 4))
