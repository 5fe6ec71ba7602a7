"""PubMed dates as the MedGen/PubMed citation line shows them.

The display forms are ``2024``, ``2024 Oct``, ``2024 Oct 7``, ``2000 Spring``
and, for MedlineDate, the text as published (``1998 Dec-1999 Jan``).
"""

from __future__ import annotations

import re

from lxml import etree

from pipeline.models import PubDate
from pipeline.transform.text import child_text, collapse_ws

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_FULL = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_BY_NAME = {m.lower(): m for m in _MONTHS} | dict(zip(_FULL, _MONTHS, strict=True))
_BY_NAME["sept"] = "Sep"
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")


def month_abbrev(raw: str | None) -> str | None:
    """``09``, ``9``, ``sep``, ``September`` -> ``Sep``; None if not a month."""
    text = collapse_ws(raw)
    if text is None:
        return None
    if text.isdigit():
        number = int(text)
        return _MONTHS[number - 1] if 1 <= number <= 12 else None
    return _BY_NAME.get(text.rstrip(".").lower())


def day_display(raw: str | None) -> str | None:
    """``07`` -> ``7``; None unless a day of the month."""
    text = collapse_ws(raw)
    if text is None or not text.isdigit() or not 1 <= int(text) <= 31:
        return None
    return str(int(text))


def first_year(text: str | None) -> int | None:
    """The first four-digit year in free text (``1998 Dec-1999 Jan`` -> 1998)."""
    match = _YEAR.search(text or "")
    return int(match.group(1)) if match else None


def date_display(
    year: str | None,
    month: str | None = None,
    day: str | None = None,
    season: str | None = None,
) -> str | None:
    """``Year[ Mon[ D]]`` or ``Year Season``; a day needs a month to be shown.

    A month that is not a recognisable month is shown as published rather
    than dropped, so the citation never claims less precision than NCBI gave.
    """
    year = collapse_ws(year)
    if year is None:
        return None
    season = collapse_ws(season)
    if season is not None:
        return f"{year} {season}"
    abbrev = month_abbrev(month)
    if abbrev is None:
        shown = collapse_ws(month)
        return year if shown is None else f"{year} {shown}"
    d = day_display(day)
    return f"{year} {abbrev}" if d is None else f"{year} {abbrev} {d}"


def pub_date_from_element(el: etree._Element | None) -> PubDate:
    """A ``PubDate`` element (journal issue or book) as raw, year and display."""
    if el is None:
        return PubDate(raw=None, year=None, display=None)
    parts = (collapse_ws(child.text) for child in el if isinstance(child.tag, str))
    raw = " ".join(p for p in parts if p) or None
    medline = child_text(el, "MedlineDate")
    year_text = child_text(el, "Year")
    if year_text is None:
        return PubDate(raw=raw, year=first_year(medline), display=medline)
    display = date_display(
        year_text,
        child_text(el, "Month"),
        child_text(el, "Day"),
        child_text(el, "Season"),
    )
    year = int(year_text) if year_text.isdigit() else first_year(year_text)
    return PubDate(raw=raw, year=year, display=display)


def article_date_display(el: etree._Element | None) -> str | None:
    """An ``ArticleDate`` (electronic publication) as ``YYYY Mon D``."""
    if el is None:
        return None
    return date_display(child_text(el, "Year"), child_text(el, "Month"), child_text(el, "Day"))
