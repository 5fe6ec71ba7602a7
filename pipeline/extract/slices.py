"""Slices of a PubMed search, for results past esearch's 9,999-record ceiling.

esearch serves only the first 9,999 records of any query. A bigger category
is cut into publication-date windows (``mindate``/``maxdate``, ``datetype=pdat``),
halved until each holds at most 9,999 records; a single day that still holds
more is halved again by PMID range (``lo:hi[uid]``). Pure values and arithmetic
here; the requests are the client's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date, timedelta

CEILING = 9_999
EARLIEST = date(1000, 1, 1)
LATEST = date(2999, 12, 31)
UID_MAX = 999_999_999


@dataclass(frozen=True, slots=True)
class Slice:
    first: date = EARLIEST
    last: date = LATEST
    uid_low: int | None = None
    uid_high: int | None = None
    count: int = 0

    @property
    def params(self) -> dict[str, str]:
        return {
            "datetype": "pdat",
            "mindate": self.first.strftime("%Y/%m/%d"),
            "maxdate": self.last.strftime("%Y/%m/%d"),
        }

    @property
    def term_suffix(self) -> str:
        if self.uid_low is None or self.uid_high is None:
            return ""
        return f" AND {self.uid_low}:{self.uid_high}[uid]"

    def halves(self) -> tuple[Slice, Slice]:
        """Two disjoint slices covering this one: by date, or by PMID within one day."""
        if self.first < self.last:
            middle = self.first + timedelta(days=(self.last - self.first).days // 2)
            return (
                replace(self, last=middle, count=0),
                replace(self, first=middle + timedelta(days=1), count=0),
            )
        low, high = self.uid_low or 1, self.uid_high or UID_MAX
        if low >= high:
            raise ValueError(f"cannot split a single PMID ({low}) any further")
        split = (low + high) // 2
        return (
            replace(self, uid_low=low, uid_high=split, count=0),
            replace(self, uid_low=split + 1, uid_high=high, count=0),
        )

    def newest_first_key(self) -> tuple[date, int]:
        return (self.last, self.uid_high or UID_MAX)


def pages(count: int, page_size: int) -> int:
    return max(1, math.ceil(count / page_size))
