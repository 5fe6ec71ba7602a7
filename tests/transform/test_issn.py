from __future__ import annotations

import pytest

from pipeline.transform.issn import issn_check_digit, normalize_issn


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0028-4793", "0028-4793"),
        ("0378-5955", "0378-5955"),
        (" 1043-1578 ", "1043-1578"),
        ("2434-561X", "2434-561X"),
        ("2434-561x", "2434-561X"),
        ("00284793", "0028-4793"),
        ("0028-4794", None),
        ("2434-5610", None),
        ("0028-479", None),
        ("ISSN 0028-4793", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_issn_keeps_valid_issns_and_drops_bad_check_digits(
    raw: str | None, expected: str | None
):
    assert normalize_issn(raw) == expected


@pytest.mark.parametrize(
    ("first7", "check"), [("0028479", "3"), ("2434561", "X"), ("0378595", "5")]
)
def test_issn_check_digit_is_mod_11(first7: str, check: str):
    assert issn_check_digit(first7) == check
