from __future__ import annotations

import pytest

from pipeline.models import PubDate
from pipeline.transform.dates import (
    article_date_display,
    date_display,
    day_display,
    first_year,
    month_abbrev,
    pub_date_from_element,
)
from tests.transform.builders import element


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("09", "Sep"),
        ("9", "Sep"),
        ("1", "Jan"),
        ("12", "Dec"),
        ("Oct", "Oct"),
        ("oct", "Oct"),
        ("OCT", "Oct"),
        ("September", "Sep"),
        ("Sept", "Sep"),
        (" 06 ", "Jun"),
        ("0", None),
        ("13", None),
        ("Spring", None),
        ("Octo", None),
        ("", None),
        (None, None),
    ],
)
def test_month_abbrev_gives_three_letter_english_month(raw: str | None, expected: str | None):
    assert month_abbrev(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("07", "7"), ("7", "7"), ("31", "31"), ("00", None), ("32", None), ("x", None), (None, None)],
)
def test_day_display_drops_leading_zero(raw: str | None, expected: str | None):
    assert day_display(raw) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1998 Dec-1999 Jan", 1998),
        ("Spring 2000", 2000),
        ("1887", 1887),
        ("12345", None),
        (None, None),
    ],
)
def test_first_year_finds_the_first_four_digit_year(text: str | None, expected: int | None):
    assert first_year(text) == expected


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (("2024", None, None, None), "2024"),
        (("2024", "Oct", None, None), "2024 Oct"),
        (("2024", "10", "07", None), "2024 Oct 7"),
        (("2018", "1", "1", None), "2018 Jan 1"),
        (("2024", "09", None, None), "2024 Sep"),
        (("2024", None, "5", None), "2024"),
        (("1990", None, None, "Spring"), "1990 Spring"),
        (("2024", "Oct", "7", "Fall"), "2024 Fall"),
        (("2024", "Mid", None, None), "2024 Mid"),
        ((None, "Oct", "7", None), None),
    ],
)
def test_date_display_matches_pubmed_citation_format(
    parts: tuple[str | None, str | None, str | None, str | None], expected: str | None
):
    assert date_display(*parts) == expected


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        (
            "<PubDate><Year>2024</Year><Month>Oct</Month></PubDate>",
            PubDate(raw="2024 Oct", year=2024, display="2024 Oct"),
        ),
        (
            "<PubDate><Year>2024</Year><Month>09</Month><Day>05</Day></PubDate>",
            PubDate(raw="2024 09 05", year=2024, display="2024 Sep 5"),
        ),
        (
            "<PubDate><Year>1990</Year><Season>Spring</Season></PubDate>",
            PubDate(raw="1990 Spring", year=1990, display="1990 Spring"),
        ),
        (
            "<PubDate><MedlineDate>1998 Dec-1999 Jan</MedlineDate></PubDate>",
            PubDate(raw="1998 Dec-1999 Jan", year=1998, display="1998 Dec-1999 Jan"),
        ),
        (
            "<PubDate><Year>1887</Year></PubDate>",
            PubDate(raw="1887", year=1887, display="1887"),
        ),
        ("<PubDate/>", PubDate(raw=None, year=None, display=None)),
    ],
)
def test_pub_date_from_element_keeps_raw_year_and_display(xml: str, expected: PubDate):
    assert pub_date_from_element(element(xml)) == expected


def test_pub_date_from_missing_element_is_all_none():
    assert pub_date_from_element(None) == PubDate(raw=None, year=None, display=None)


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        (
            '<ArticleDate DateType="Electronic"><Year>2024</Year><Month>07</Month>'
            "<Day>24</Day></ArticleDate>",
            "2024 Jul 24",
        ),
        (
            '<ArticleDate DateType="Electronic"><Year>2018</Year><Month>01</Month>'
            "<Day>01</Day></ArticleDate>",
            "2018 Jan 1",
        ),
    ],
)
def test_article_date_display_is_year_month_day(xml: str, expected: str):
    assert article_date_display(element(xml)) == expected
