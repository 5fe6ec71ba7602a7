from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.transform.orcid import (
    normalize_orcid,
    normalize_orcid_any,
    orcid_check_digit,
    orcid_in_text,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0000-0002-1825-0097", "0000-0002-1825-0097"),
        ("0000000218250097", "0000-0002-1825-0097"),
        (" 0000 0002 1825 0097 ", "0000-0002-1825-0097"),
        ("https://orcid.org/0000-0002-1825-0097", "0000-0002-1825-0097"),
        ("http://orcid.org/0000-0002-1825-0097", "0000-0002-1825-0097"),
        ("https://www.orcid.org/0000-0002-1825-0097/", "0000-0002-1825-0097"),
        ("orcid.org/0000000218250097", "0000-0002-1825-0097"),
        ("0000-0002-1694-233X", "0000-0002-1694-233X"),
        ("0000-0002-1694-233x", "0000-0002-1694-233X"),
        ("https://orcid.org/0000-0002-4590-7461", "0000-0002-4590-7461"),
        ("0000-0002-1825-0098", None),
        ("0000-0002-1694-2330", None),
        ("0000-0002-1825-009", None),
        ("0000-0002-1825-00977", None),
        ("X000-0002-1825-0097", None),
        ("\u0660\u0660\u0660\u0660-0002-1825-0097", None),
        ("https://example.org/0000-0002-1825-0097", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_orcid_accepts_written_forms_and_verifies_check_digit(
    raw: str | None, expected: str | None
):
    assert normalize_orcid(raw) == expected


@pytest.mark.parametrize(
    ("first15", "check"),
    [("000000021825009", "7"), ("000000021694233", "X"), ("000000024590746", "1")],
)
def test_orcid_check_digit_is_iso_7064_mod_11_2(first15: str, check: str):
    assert orcid_check_digit(first15) == check


@given(st.from_regex(r"[0-9]{15}", fullmatch=True))
def test_normalize_orcid_accepts_any_id_with_its_own_check_digit(first15: str):
    bare = first15 + orcid_check_digit(first15)
    canonical = "-".join(bare[i : i + 4] for i in range(0, 16, 4))
    assert normalize_orcid(bare) == canonical
    assert normalize_orcid(f"https://orcid.org/{canonical.lower()}") == canonical


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dept A, Univ B. ORCID: 0000-0002-1825-0097.", "0000-0002-1825-0097"),
        ("Univ B; orcid.org/0000-0002-1694-233x", "0000-0002-1694-233X"),
        ("Univ B (https://orcid.org/0000000218250097).", "0000-0002-1825-0097"),
        ("Univ B. ORCID iD 0000 0002 1825 0097", "0000-0002-1825-0097"),
        ("ORCID: 0000-0002-1825-0098 (typo); ORCID: 0000-0002-1694-233X", "0000-0002-1694-233X"),
        ("A, ORCID 0000-0002-1825-0097; again ORCID: 0000000218250097", "0000-0002-1825-0097"),
        ("ORCID: 0000-0002-1825-0097; ORCID: 0000-0002-1694-233X (whose?)", None),
        ("Univ B, PO Box 0000-0002-1825-0097.", None),
        ("ORCID: 0000-0002-1825-0098.", None),
        ("ORCID: 10000-0002-1825-0097", None),
        ("Dept A, Univ B.", None),
        ("", None),
        (None, None),
    ],
)
def test_orcid_in_text_finds_a_labelled_valid_id_inside_free_text(
    text: str | None, expected: str | None
):
    assert orcid_in_text(text) == expected


# An author note naming several people, as PubMed puts it in the first author's
# affiliation (shape of PMID 31789841 in the samples; iDs here are valid examples).
NOTE = (
    "Y.S. Park is associate professor, Univ A; ORCID: https://orcid.org/0000-0002-1825-0097. "
    "L. Konge is professor, Univ B; ORCID: https://orcid.org/0000-0002-1694-233X. "
    "A.R. Artino Jr is professor, Univ C; ORCID: https://orcid.org/0000-0003-3525-2788."
)


@pytest.mark.parametrize(
    ("owner", "expected"),
    [
        ("Park", "0000-0002-1825-0097"),
        ("konge", "0000-0002-1694-233X"),
        ("Artino", "0000-0003-3525-2788"),
        ("Par", None),
        ("Smith", None),
        (None, None),
    ],
)
def test_orcid_in_a_note_naming_several_people_is_the_one_near_the_owners_name(
    owner: str | None, expected: str | None
):
    assert orcid_in_text(NOTE, owner) == expected


@given(st.text())
def test_normalize_orcid_never_raises_and_is_idempotent(raw: str):
    once = normalize_orcid(raw)
    assert normalize_orcid(once) == once


@given(st.text(), st.one_of(st.none(), st.text()))
def test_orcid_in_text_never_raises_and_gives_a_canonical_id(text: str, owner: str | None):
    found = orcid_in_text(text, owner)
    assert found is None or normalize_orcid(found) == found


@given(
    st.from_regex(
        r"(https://orcid\.org/)?[0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{3}[0-9X]", fullmatch=True
    )
)
def test_normalize_orcid_shortcut_agrees_with_the_general_path(raw: str):
    assert normalize_orcid(raw) == normalize_orcid_any(raw)
