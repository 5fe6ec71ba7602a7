from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.transform.doi import Doi, DoiChoice, choose_doi, clean_doi, doi_key, pick_doi


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("10.1056/NEJMoa2313886", "10.1056/NEJMoa2313886"),
        ("  10.1056/NEJMoa2313886\n", "10.1056/NEJMoa2313886"),
        ("doi:10.1056/NEJMoa2313886", "10.1056/NEJMoa2313886"),
        ("DOI: 10.1056/NEJMoa2313886", "10.1056/NEJMoa2313886"),
        ("https://doi.org/10.1056/NEJMoa2313886", "10.1056/NEJMoa2313886"),
        ("http://dx.doi.org/10.1056/NEJMoa2313886", "10.1056/NEJMoa2313886"),
        ("HTTPS://DX.DOI.ORG/10.1056/NEJMoa2313886", "10.1056/NEJMoa2313886"),
        ("doi: https://doi.org/10.1056/NEJMoa2313886.", "10.1056/NEJMoa2313886"),
        ("10.1117/1.JMI.5.2.026002.", "10.1117/1.JMI.5.2.026002"),
        ("10.1117/1.JMI.5.2.026002;,", "10.1117/1.JMI.5.2.026002"),
        ("10.1016/0005-2795(76)90109-4", "10.1016/0005-2795(76)90109-4"),
        ("10.123/too-short-registrant", None),
        ("11.1056/NEJMoa2313886", None),
        ("10.1056/", None),
        ("10.1056/has space", None),
        ("10.\u0661\u0662\u0663\u0664/arabic-indic-digits", None),
        ("doi:doi:10.1056/X;", "10.1056/X"),
        ("NEJMoa2313886", None),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_clean_doi_strips_wrappers_and_refuses_non_dois(raw: str | None, expected: str | None):
    assert clean_doi(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["doi:10.1056/NEJMoa2313886", "https://doi.org/10.1/x", "10.1117/1.JMI.5.2.026002.", "junk"],
)
def test_clean_doi_is_idempotent(raw: str):
    once = clean_doi(raw)
    assert clean_doi(once) == once


def test_doi_key_is_lower_case_and_display_keeps_published_case():
    assert doi_key("10.1056/NEJMoa2313886") == "10.1056/nejmoa2313886"


@pytest.mark.parametrize(
    ("candidates", "expected"),
    [
        (
            [("elocation", "10.1000/A"), ("articleidlist", "10.1000/B")],
            Doi("10.1000/a", "10.1000/A", "elocation"),
        ),
        (
            [("elocation", "not a doi"), ("articleidlist", "doi:10.1000/B")],
            Doi("10.1000/b", "10.1000/B", "articleidlist"),
        ),
        ([("elocation", None), ("articleidlist", "  ")], None),
        ([], None),
    ],
)
def test_pick_doi_takes_the_first_valid_source_in_order(
    candidates: list[tuple[str, str | None]], expected: Doi | None
):
    assert pick_doi(candidates) == expected


@given(st.text(max_size=60))
def test_clean_doi_is_idempotent_for_any_text(raw: str):
    once = clean_doi(raw)
    assert clean_doi(once) == once


@given(st.from_regex(r"10\.[0-9]{4,9}/[A-Za-z0-9()._-]{1,20}[A-Za-z0-9]", fullmatch=True))
def test_clean_doi_keeps_every_well_formed_doi_and_its_url_form(doi: str):
    assert clean_doi(doi) == doi
    assert clean_doi(f"https://doi.org/{doi}") == doi


@pytest.mark.parametrize(
    ("candidates", "expected"),
    [
        pytest.param(
            [("elocation", "10.1000/A"), ("articleidlist", "doi:10.1000/a")],
            DoiChoice(Doi("10.1000/a", "10.1000/A", "elocation")),
            id="agreeing sources give one DOI and no conflict",
        ),
        pytest.param(
            [("elocation", "10.1000/A"), ("articleidlist", "10.1000/B")],
            DoiChoice(Doi("10.1000/a", "10.1000/A", "elocation"), alternate="10.1000/b"),
            id="disagreeing sources keep the first and the second as alternate",
        ),
        pytest.param(
            [("elocation", "abc"), ("articleidlist", "10.1000/B")],
            DoiChoice(
                Doi("10.1000/b", "10.1000/B", "articleidlist"),
                problems=("ELocationID doi 'abc' is not a DOI",),
            ),
            id="an invalid first candidate is a problem and the next valid one wins",
        ),
        pytest.param(
            [("elocation", None), ("articleidlist", "  ")],
            DoiChoice(),
            id="missing and blank candidates give nothing and no problem",
        ),
    ],
)
def test_choose_doi_keeps_the_first_valid_doi_an_alternate_and_the_problems(
    candidates: list[tuple[str, str | None]], expected: DoiChoice
):
    assert choose_doi(candidates) == expected


@given(st.text())
def test_clean_doi_never_raises_and_is_idempotent_for_any_text(raw: str):
    once = clean_doi(raw)
    assert clean_doi(once) == once
    if once is not None:
        assert doi_key(once) == once.lower()


@given(st.lists(st.tuples(st.sampled_from(["elocation", "articleidlist"]), st.text())))
def test_choose_doi_never_raises_and_never_conflicts_with_itself(
    candidates: list[tuple[str, str]],
):
    choice = choose_doi(candidates)
    if choice.doi is None:
        assert choice.alternate is None
    elif choice.alternate is not None:
        assert choice.alternate != choice.doi.key
