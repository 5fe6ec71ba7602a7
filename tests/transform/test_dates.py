from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.models import PubDate
from pipeline.transform.dates import (
    PRECISIONS,
    SEASON_MONTHS,
    DateSpan,
    article_date_display,
    date_display,
    day_display,
    first_year,
    month_abbrev,
    parse_date_text,
    pub_date_from_element,
    season_span,
    structured_date_span,
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
            PubDate("2024 Oct", 2024, "2024 Oct", date(2024, 10, 1), date(2024, 10, 31), "month"),
        ),
        (
            "<PubDate><Year>2024</Year><Month>09</Month><Day>05</Day></PubDate>",
            PubDate("2024 09 05", 2024, "2024 Sep 5", date(2024, 9, 5), date(2024, 9, 5), "day"),
        ),
        (
            "<PubDate><Year>1990</Year><Season>Spring</Season></PubDate>",
            PubDate(
                "1990 Spring", 1990, "1990 Spring", date(1990, 3, 1), date(1990, 5, 31), "season"
            ),
        ),
        (
            "<PubDate><MedlineDate>1998 Dec-1999 Jan</MedlineDate></PubDate>",
            PubDate(
                "1998 Dec-1999 Jan",
                1998,
                "1998 Dec-1999 Jan",
                date(1998, 12, 1),
                date(1999, 1, 31),
                "range",
            ),
        ),
        (
            "<PubDate><Year>1887</Year></PubDate>",
            PubDate("1887", 1887, "1887", date(1887, 1, 1), date(1887, 12, 31), "year"),
        ),
        (
            "<PubDate><MedlineDate>1978 1st Quarter</MedlineDate></PubDate>",
            PubDate("1978 1st Quarter", 1978, "1978 1st Quarter", None, None, None),
        ),
        ("<PubDate/>", PubDate(raw=None, year=None, display=None)),
    ],
)
def test_pub_date_from_element_keeps_raw_year_display_and_span(xml: str, expected: PubDate):
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


def d(text: str) -> date:
    return date.fromisoformat(text)


# Every shape of MedlineDate text we read, and some we refuse.
@pytest.mark.parametrize(
    ("text", "start", "end", "precision"),
    [
        ("1879", "1879-01-01", "1879-12-31", "year"),
        ("2024 Oct", "2024-10-01", "2024-10-31", "month"),
        ("2024 February", "2024-02-01", "2024-02-29", "month"),
        ("2024 Oct 7", "2024-10-07", "2024-10-07", "day"),
        ("2000 Spring", "2000-03-01", "2000-05-31", "season"),
        ("Summer 2001", "2001-06-01", "2001-08-31", "season"),
        ("1995 Autumn", "1995-09-01", "1995-11-30", "season"),
        ("1990 Jan-Feb", "1990-01-01", "1990-02-28", "range"),
        ("2002 Sep-Oct", "2002-09-01", "2002-10-31", "range"),
        ("1998 Dec-1999 Jan", "1998-12-01", "1999-01-31", "range"),
        ("1965 Dec-1966 Jan", "1965-12-01", "1966-01-31", "range"),
        ("1975-1976", "1975-01-01", "1976-12-31", "range"),
        ("1989 Dec 15-1990 Jan 2", "1989-12-15", "1990-01-02", "range"),
        ("1977 Jul 7-14", "1977-07-07", "1977-07-14", "range"),
        ("1991 Jan 3-Feb 8", "1991-01-03", "1991-02-08", "range"),
        ("1998 Dec-Jan", "1998-12-01", "1999-01-31", "range"),
        ("2005 Fall-Winter", "2005-09-01", "2006-02-28", "range"),
        ("1990 Winter-Spring", "1990-01-01", "1990-05-31", "range"),
        ("Jan-Feb 1990", "1990-01-01", "1990-02-28", "range"),
        ("2001 Nov/Dec", "2001-11-01", "2001-12-31", "range"),
        ("1880 Sept.-Oct.", "1880-09-01", "1880-10-31", "range"),
    ],
)
def test_parse_date_text_reads_medline_date_shapes_as_spans(
    text: str, start: str, end: str, precision: str
):
    assert parse_date_text(text) == DateSpan(d(start), d(end), precision)


@pytest.mark.parametrize(
    "text",
    [
        "1978 1st Quarter",
        "2024 Feb 30",
        "Spring",
        "Jan-Feb",
        "1990 Jan-1989 Feb",
        "1990-1991-1992",
        "1990 Jan Feb",
        "1990 Spring 3",
        "0000",
        "9999 Dec-Jan",
        "\u0661\u0669\u0669\u0660",
        "",
        "  ",
        None,
    ],
)
def test_parse_date_text_gives_no_span_for_text_it_cannot_read(text: str | None):
    assert parse_date_text(text) is None


@pytest.mark.parametrize(
    ("parts", "start", "end", "precision"),
    [
        (("2024", "Sep", "03", None), "2024-09-03", "2024-09-03", "day"),
        (("2024", "09", None, None), "2024-09-01", "2024-09-30", "month"),
        (("2024", "9", None, None), "2024-09-01", "2024-09-30", "month"),
        (("2024", "Feb", "30", None), "2024-02-01", "2024-02-29", "month"),
        (("2024", "Mid", None, None), "2024-01-01", "2024-12-31", "year"),
        (("2024", "Jul-Aug", None, None), "2024-07-01", "2024-08-31", "range"),
        (("1879", None, None, None), "1879-01-01", "1879-12-31", "year"),
        (("1990", None, None, "Spring"), "1990-03-01", "1990-05-31", "season"),
        (("1990", None, None, "Fall"), "1990-09-01", "1990-11-30", "season"),
        (("1990", None, None, "Winter"), "1990-01-01", "1990-02-28", "season"),
        (("1990", None, None, "Winter-Spring"), "1990-01-01", "1990-05-31", "season"),
        (("1990", None, None, "Jul-Oct"), "1990-07-01", "1990-10-31", "season"),
        (("1990", None, None, "Sep-Dec"), "1990-09-01", "1990-12-31", "season"),
        (("1990", None, None, "Jan-Mar"), "1990-01-01", "1990-03-31", "season"),
        (("1990", None, None, "Midwinter"), "1990-01-01", "1990-12-31", "year"),
    ],
)
def test_structured_date_span_reads_year_month_day_and_season_elements(
    parts: tuple[str, str | None, str | None, str | None], start: str, end: str, precision: str
):
    assert structured_date_span(*parts) == DateSpan(d(start), d(end), precision)


@pytest.mark.parametrize(
    ("season", "start", "end"),
    [
        ("Spring", "2001-03-01", "2001-05-31"),
        ("Summer", "2001-06-01", "2001-08-31"),
        ("Fall", "2001-09-01", "2001-11-30"),
        ("Autumn", "2001-09-01", "2001-11-30"),
        ("Winter", "2001-01-01", "2001-02-28"),
    ],
)
def test_season_table_keeps_every_season_inside_its_year(season: str, start: str, end: str):
    assert season_span(2001, season) == DateSpan(d(start), d(end), "season")


def test_season_table_names_every_season_once_per_spelling():
    assert sorted(SEASON_MONTHS) == ["autumn", "fall", "spring", "summer", "winter"]


@given(st.text())
def test_parse_date_text_never_raises_and_start_is_never_after_end(text: str):
    span = parse_date_text(text)
    if span is not None:
        assert span.start <= span.end
        assert span.precision in PRECISIONS


_PIECES = st.sampled_from(
    ["1998", "1879", "2024", "Dec", "Jan", "Feb", "9", "30", "Spring", "Winter", "Fall", "-", "/"]
)


@given(st.lists(_PIECES, max_size=6).map(" ".join))
def test_parse_date_text_of_date_like_text_never_gives_start_after_end(text: str):
    span = parse_date_text(text)
    if span is not None:
        assert span.start <= span.end


@given(
    st.one_of(st.none(), st.text(max_size=6)),
    st.one_of(st.none(), st.text(max_size=6)),
    st.one_of(st.none(), st.text(max_size=4)),
    st.one_of(st.none(), st.text(max_size=12)),
)
def test_structured_date_span_never_raises(
    year: str | None, month: str | None, day: str | None, season: str | None
):
    span = structured_date_span(year, month, day, season)
    if span is not None:
        assert span.start <= span.end
