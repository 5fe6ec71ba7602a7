"""compare: what changed between two snapshots' citations, table-driven."""

from __future__ import annotations

import pytest

from pipeline.transform.changes import EMPTY, Change, Cited, Side, compare, counts

C, K = "C0000001", "therapy"


def side(cited: dict[int, tuple[int, bool | None]], digests: dict[int, str] | None) -> Side:
    return Side({(C, K): {p: Cited(*v) for p, v in cited.items()}}, digests)


# fmt: off
CASES = [
    # (name, old, new, expected (pmid, change, rank, previous_rank))
    ("an unchanged citation is no change", side({1: (1, False)}, {1: "a"}),
     side({1: (1, False)}, {1: "a"}), []),
    ("a new pmid is added with its rank", side({}, {}),
     side({2: (1, False)}, {2: "b"}), [(2, "added", 1, None)]),
    ("a gone pmid is removed with its previous rank", side({2: (3, False)}, {2: "b"}),
     side({}, {}), [(2, "removed", None, 3)]),
    ("another record digest is modified", side({1: (1, False)}, {1: "a"}),
     side({1: (2, False)}, {1: "z"}), [(1, "modified", 2, 1)]),
    ("a rank that moved alone is no change", side({1: (1, False)}, {1: "a"}),
     side({1: (5, False)}, {1: "a"}), []),
    ("retracted becoming true is retracted, not modified", side({1: (1, False)}, {1: "a"}),
     side({1: (1, True)}, {1: "z"}), [(1, "retracted", 1, 1)]),
    ("a retraction is told without digests", side({1: (1, False)}, None),
     side({1: (1, True)}, None), [(1, "retracted", 1, 1)]),
    ("still retracted and changed is modified", side({1: (1, True)}, {1: "a"}),
     side({1: (1, True)}, {1: "z"}), [(1, "modified", 1, 1)]),
    ("a retraction withdrawn and changed is modified", side({1: (1, True)}, {1: "a"}),
     side({1: (1, False)}, {1: "z"}), [(1, "modified", 1, 1)]),
    ("no old digests: a changed record is not told", side({1: (1, False)}, None),
     side({1: (1, False)}, {1: "z"}), []),
    ("no new digests: a changed record is not told", side({1: (1, False)}, {1: "a"}),
     side({1: (1, False)}, None), []),
    ("a pmid without an old digest is not told modified", side({1: (1, False)}, {}),
     side({1: (1, False)}, {1: "z"}), []),
    ("an unknown old retracted flag tells no retraction", side({1: (1, None)}, {1: "a"}),
     side({1: (1, True)}, {1: "a"}), []),
]
# fmt: on


@pytest.mark.parametrize(("old", "new", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_compare_tells_each_kind_of_change(old, new, expected):
    assert compare(old, new) == [Change(C, K, *e) for e in expected]


def test_with_nothing_before_every_citation_is_added():
    new = Side({("C2", "therapy"): {5: Cited(1, False)}, ("C1", "etiology"): {9: Cited(2, True)}},
               {5: "e", 9: "n"})  # fmt: skip
    assert compare(EMPTY, new) == [
        Change("C1", "etiology", 9, "added", 2, None),
        Change("C2", "therapy", 5, "added", 1, None),
    ]


def test_changes_are_per_concept_and_category_sorted_by_cui_category_pmid():
    old = Side(
        {("C2", "therapy"): {3: Cited(1, False)}, ("C1", "therapy"): {4: Cited(1, False)}},
        {3: "c", 4: "d"},
    )
    new = Side(
        {("C1", "therapy"): {3: Cited(1, False)}, ("C1", "etiology"): {4: Cited(1, False)}},
        {3: "c", 4: "d"},
    )
    assert [(c.cui, c.category, c.pmid, c.change) for c in compare(old, new)] == [
        ("C1", "etiology", 4, "added"),
        ("C1", "therapy", 3, "added"),
        ("C1", "therapy", 4, "removed"),
        ("C2", "therapy", 3, "removed"),
    ]


def test_counts_name_every_kind_even_when_none():
    changes = compare(side({1: (1, False)}, {1: "a"}), side({2: (1, False)}, {2: "b"}))
    assert counts(changes) == {"added": 1, "removed": 1, "modified": 0, "retracted": 0}
    assert counts([]) == {"added": 0, "removed": 0, "modified": 0, "retracted": 0}
