from datetime import date

import pytest

from pipeline.extract.slices import EARLIEST, LATEST, Slice, pages


def test_date_halves_are_disjoint_and_cover_the_slice():
    low, high = Slice(date(2020, 1, 1), date(2020, 1, 10)).halves()
    assert (low.first, low.last, high.first, high.last) == (
        date(2020, 1, 1),
        date(2020, 1, 5),
        date(2020, 1, 6),
        date(2020, 1, 10),
    )


def test_a_single_day_is_halved_by_pmid_range():
    low, high = Slice(date(2020, 1, 1), date(2020, 1, 1)).halves()
    assert low.term_suffix == " AND 1:500000000[uid]"
    assert high.term_suffix == " AND 500000001:999999999[uid]"
    assert low.params == {"datetype": "pdat", "mindate": "2020/01/01", "maxdate": "2020/01/01"}


def test_a_single_pmid_cannot_be_split():
    with pytest.raises(ValueError, match="single PMID"):
        Slice(date(2020, 1, 1), date(2020, 1, 1), 7, 7).halves()


def test_repeated_halving_reaches_a_single_day():
    current = Slice(EARLIEST, LATEST)
    steps = 0
    while current.first < current.last:
        current = current.halves()[1]
        steps += 1
    assert current.first == LATEST
    assert steps < 25


@pytest.mark.parametrize(("count", "size", "expected"), [(0, 10, 1), (10, 10, 1), (11, 10, 2)])
def test_pages_counts_at_least_one_request(count, size, expected):
    assert pages(count, size) == expected
