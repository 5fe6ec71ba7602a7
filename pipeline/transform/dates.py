"""PubMed dates as the MedGen/PubMed citation line shows them, and as date spans.

The display forms are ``2024``, ``2024 Oct``, ``2024 Oct 7``, ``2000 Spring``
and, for MedlineDate, the text as published (``1998 Dec-1999 Jan``).

Every PubDate is also read as a span ``start``..``end`` (the first and last day
it can mean) with a ``precision``:

==========  ==============================================  =======================
precision   written as                                      span
==========  ==============================================  =======================
day         ``2024 Oct 7`` (Month as ``Oct``, ``10``, ``9``)  that day
month       ``2024 Oct``                                    the whole month
season      ``2000 Spring``, ``Summer 2001``, Season         see SEASON_MONTHS
            element ``Jul-Oct`` / ``Winter-Spring``
year        ``1879``                                        Jan 1 .. Dec 31
range       ``1990 Jan-Feb``, ``1998 Dec-1999 Jan``,         first day of the first
            ``1975-1976``, ``1989 Dec 15-1990 Jan 2``       part .. last of the second
==========  ==============================================  =======================

Text that is none of these (``1978 1st Quarter``) gives no span (all None);
the parser never raises and never gives ``start > end``.
"""

from __future__ import annotations

import calendar
import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache

from lxml import etree

from pipeline.models import PubDate
from pipeline.transform.text import children_by_tag, collapse_ws, flatten, kid_text

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
_YEAR = re.compile(r"(?<![0-9])([0-9]{4})(?![0-9])")

# Season -> (first month, last month), inside the stated year. Meteorological
# (northern-hemisphere) seasons, except that Winter Y is the part of winter that
# lies in Y (Jan 1 - end of Feb): PubMed files a season under the year,
# so a single season never spills into another year, and start.year == pub_year.
# In a range where Winter follows another season (``Fall-Winter``) it is the
# Jan-Feb after it, i.e. of the next year (see parse_date_text).
SEASON_MONTHS: Mapping[str, tuple[int, int]] = {
    "spring": (3, 5),
    "summer": (6, 8),
    "fall": (9, 11),
    "autumn": (9, 11),
    "winter": (1, 2),
}

PRECISIONS = ("day", "month", "season", "year", "range")


def month_abbrev(raw: str | None) -> str | None:
    """``09``, ``9``, ``sep``, ``September`` -> ``Sep``; None if not a month."""
    text = collapse_ws(raw)
    if text is None:
        return None
    if text.isascii() and text.isdigit():
        number = int(text)
        return _MONTHS[number - 1] if 1 <= number <= 12 else None
    return _BY_NAME.get(text.rstrip(".").lower())


def month_number(raw: str | None) -> int | None:
    """``Sep``, ``09``, ``9`` -> 9; None if not a month."""
    abbrev = month_abbrev(raw)
    return None if abbrev is None else _MONTHS.index(abbrev) + 1


def day_display(raw: str | None) -> str | None:
    """``07`` -> ``7``; None unless a day of the month."""
    text = collapse_ws(raw)
    if text is None or not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 31:
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
    """A ``PubDate`` element (journal issue or book) as raw, year, display and span."""
    if el is None:
        return PubDate(raw=None, year=None, display=None)
    # What the date depends on: each child's tag, own text and (for a child with
    # inline markup, which no PubDate should have) all its text.
    key = tuple(
        (child.tag, child.text, flatten(child) if len(child) else None)
        for child in el
        if isinstance(child.tag, str)
    )
    return _pub_date_of(key)


# Pure and read once per record, while a baseline file holds a few thousand
# distinct dates over 30,000 records: the PubDate (immutable) is shared.
@lru_cache(maxsize=16384)
def _pub_date_of(key: tuple[tuple[str, str | None, str | None], ...]) -> PubDate:
    parts: list[str] = []
    kids: dict[str, str | None] = {}  # each tag's first child, flattened (as find() gives)
    for tag, text, whole in key:
        part = collapse_ws(text)
        if part:
            parts.append(part)
        if tag not in kids:
            kids[tag] = whole if whole is not None else part
    raw = " ".join(parts) or None
    medline = kids.get("MedlineDate")
    year_text = kids.get("Year")
    if year_text is None:
        return _pub_date(raw, first_year(medline), medline, parse_date_text(medline))
    month = kids.get("Month")
    day = kids.get("Day")
    season = kids.get("Season")
    display = date_display(year_text, month, day, season)
    year = int(year_text) if year_text.isascii() and year_text.isdigit() else first_year(year_text)
    return _pub_date(raw, year, display, structured_date_span(year_text, month, day, season))


def _pub_date(
    raw: str | None, year: int | None, display: str | None, span: DateSpan | None
) -> PubDate:
    # Built at once: dataclasses.replace() costs as much as the rest of the date.
    if span is None:
        return PubDate(raw=raw, year=year, display=display)
    return PubDate(
        raw=raw,
        year=year,
        display=display,
        start=span.start,
        end=span.end,
        precision=span.precision,
    )


# ---------------------------------------------------------------- date spans


@dataclass(frozen=True, slots=True)
class DateSpan:
    """The first and last day a published date can mean (start <= end)."""

    start: datetime.date
    end: datetime.date
    precision: str


@dataclass(frozen=True, slots=True)
class _Part:
    """One side of a date range as written: any of year, month or season, day."""

    year: int | None = None
    month: int | None = None
    season: str | None = None
    day: int | None = None


_RANGE_SEP = re.compile(r"\s*[-\u2010-\u2013/]\s*")
_TOKEN_SPLIT = re.compile(r"[\s,]+")


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def year_span(year: int) -> DateSpan | None:
    return _span(year, 1, 1, year, 12, 31, "year")


def month_span(year: int, month: int) -> DateSpan | None:
    if not 1 <= month <= 12 or not 1 <= year <= 9999:
        return None
    return _span(year, month, 1, year, month, _last_day(year, month), "month")


def day_span(year: int, month: int, day: int) -> DateSpan | None:
    return _span(year, month, day, year, month, day, "day")


def season_span(year: int, season: str) -> DateSpan | None:
    """``(1990, "Spring")`` -> 1990-03-01..1990-05-31 (see SEASON_MONTHS)."""
    months = SEASON_MONTHS.get(season.lower())
    if months is None or not 1 <= year <= 9999:
        return None
    first, last = months
    return _span(year, first, 1, year, last, _last_day(year, last), "season")


def _span(y1: int, m1: int, d1: int, y2: int, m2: int, d2: int, precision: str) -> DateSpan | None:
    try:
        start, end = datetime.date(y1, m1, d1), datetime.date(y2, m2, d2)
    except ValueError:
        return None
    return DateSpan(start, end, precision) if start <= end else None


def structured_date_span(
    year: str | None, month: str | None = None, day: str | None = None, season: str | None = None
) -> DateSpan | None:
    """The span of a PubDate given as Year[, Month[, Day]] or Year, Season elements.

    A Season (``Spring``, or a month range used as a season: ``Jul-Oct``) has
    precision ``season``; a Month PubMed did not write as a month (``Jul-Aug``)
    is read like MedlineDate text; an unreadable Month or Season leaves the year;
    an impossible Day (``Feb 30``) leaves the month.
    """
    y = collapse_ws(year)
    if y is None or not (y.isascii() and y.isdigit() and len(y) == 4):
        return parse_date_text(" ".join(p for p in (y, month, day, season) if p))
    number = int(y)
    if collapse_ws(season) is not None:
        span = parse_date_text(f"{y} {season}")
        if span is None:
            return year_span(number)
        return DateSpan(span.start, span.end, "season")  # cheaper than replace()
    if collapse_ws(month) is None:
        return year_span(number)
    m = month_number(month)
    if m is None:
        return parse_date_text(f"{y} {month}") or year_span(number)
    d = day_display(day)
    if d is not None:
        return day_span(number, m, int(d)) or month_span(number, m)
    return month_span(number, m)


def parse_date_text(text: str | None) -> DateSpan | None:
    """A MedlineDate-style text as a span, or None when it is not a date we read.

    ``Year [Month [Day]]``, ``Year Season``, ``Season Year`` and ranges of two
    such parts joined by ``-`` (or ``/``); the second part takes the year and
    month it leaves out from the first (``1990 Jan-Feb``, ``1977 Jul 7-14``) and
    the first takes the year from the second (``Jan-Feb 1990``). A range whose
    end would come before its start with a borrowed year is read across the
    year boundary (``1998 Dec-Jan``, ``2005 Fall-Winter``). Never raises.
    """
    cleaned = collapse_ws(text)
    if cleaned is None:
        return None
    pieces = _RANGE_SEP.split(cleaned)
    if len(pieces) > 2 or not all(pieces):
        return None
    parts = [_read_part(p) for p in pieces]
    if len(parts) == 1:
        return _part_span(parts[0]) if parts[0] is not None else None
    first, second = parts
    if first is None or second is None:
        return None
    return _range_span(first, second)


def _read_part(text: str) -> _Part | None:
    """``1989 Dec 15``, ``Summer 2001``, ``Jan``, ``14``: tokens in any order, each once."""
    year = month = day = None
    season: str | None = None
    for token in _TOKEN_SPLIT.split(text.strip(" ,")):
        if not token.isascii():
            return None
        if token.isdigit() and len(token) == 4 and year is None:
            year = int(token)
        elif token.isdigit() and len(token) <= 2 and day is None:
            day = int(token)
        elif token.isalpha() or token.endswith("."):
            name = token.rstrip(".").lower()
            if month is None and season is None and name in _BY_NAME:
                month = _MONTHS.index(_BY_NAME[name]) + 1
            elif month is None and season is None and name in SEASON_MONTHS:
                season = name
            else:
                return None
        else:
            return None
    if day is not None and season is not None:
        return None
    return _Part(year=year, month=month, season=season, day=day)


def _part_span(part: _Part) -> DateSpan | None:
    if part.year is None:
        return None
    if part.season is not None:
        return season_span(part.year, part.season)
    if part.month is None:
        return year_span(part.year) if part.day is None else None
    if part.day is None:
        return month_span(part.year, part.month)
    return day_span(part.year, part.month, part.day)


def _range_span(first: _Part, second: _Part) -> DateSpan | None:
    if first.day is not None and first.month is None:
        return None
    if second.day is not None and second.month is None and second.season is None:
        if second.year is not None:
            return None
        second = replace(second, month=first.month)
    if first.year is None and second.year is None:
        return None
    borrowed_end = second.year is None
    borrowed_start = first.year is None
    first = replace(first, year=first.year if first.year is not None else second.year)
    second = replace(second, year=second.year if second.year is not None else first.year)
    start, end = _part_span(first), _part_span(second)
    if start is not None and end is not None and end.end < start.start and second.year:
        if borrowed_end:
            end = _part_span(replace(second, year=second.year + 1))
        elif borrowed_start and first.year:
            start = _part_span(replace(first, year=first.year - 1))
    if start is None or end is None or end.end < start.start:
        return None
    return DateSpan(start.start, end.end, "range")


def article_date_display(el: etree._Element | None) -> str | None:
    """An ``ArticleDate`` (electronic publication) as ``YYYY Mon D``."""
    if el is None:
        return None
    kids = children_by_tag(el)
    return date_display(kid_text(kids, "Year"), kid_text(kids, "Month"), kid_text(kids, "Day"))
