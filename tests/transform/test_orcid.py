from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.transform.orcid import normalize_orcid, orcid_check_digit


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
