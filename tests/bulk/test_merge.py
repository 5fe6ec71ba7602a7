"""choose(): the columnar merge agrees with the plain fold, one record at a time."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.bulk.merge import VERSION_SPAN, choose
from pipeline.bulk.parse import FileParse


def reference(parses: list[FileParse]) -> tuple[dict[int, tuple[int, int]], set[int]]:
    """The rule as written: later files replace earlier ones unless those carry a newer
    version; a file's deletions then remove what earlier files said."""
    current: dict[int, tuple[int, int]] = {}
    deleted: set[int] = set()
    for parse in sorted(parses, key=lambda p: p.index):
        for pmid, version in zip(parse.pmids, parse.versions, strict=True):
            old = current.get(pmid)
            if old is None or version >= old[1]:
                current[pmid] = (parse.index, version)
                deleted.discard(pmid)
        for pmid in parse.deleted:
            old = current.get(pmid)
            if old is not None and old[0] < parse.index:
                del current[pmid]
                deleted.add(pmid)
    return current, deleted


def file_parse(index: int, records: list[tuple[int, int]], deleted: list[int]) -> FileParse:
    return FileParse(
        source=f"f{index}",
        index=index,
        parts={},
        rows={},
        pmids=tuple(p for p, _ in records),
        versions=tuple(v for _, v in records),
        deleted=tuple(deleted),
        rejects=0,
    )


FILES = st.lists(
    st.tuples(
        st.lists(st.tuples(st.integers(1, 12), st.integers(1, 3)), max_size=10),
        st.lists(st.integers(1, 12), max_size=4),
    ),
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(FILES, st.randoms())
def test_choose_agrees_with_the_fold_on_any_files(files, rng):
    parses = [file_parse(i, records, gone) for i, (records, gone) in enumerate(files)]
    rng.shuffle(parses)  # choose orders them by index itself
    current, deleted = reference(parses)
    winners = choose(parses)
    assert winners.pmids.tolist() == sorted(current)
    assert set(winners.deleted) == deleted
    by_file: dict[int, set[int]] = {}
    for pmid, (index, version) in current.items():
        by_file.setdefault(index, set()).add(pmid * VERSION_SPAN + version)
    assert {i: set(winners.keys_from(i).to_pylist()) for i in by_file} == by_file
    assert sum(len(winners.pmids_from(i)) for i in range(len(parses))) == len(current)
    assert all(p in winners for p in current)
    assert all(p not in winners for p in range(1, 13) if p not in current)


def test_no_files_no_winners():
    winners = choose([])
    assert len(winners) == 0
    assert winners.deleted == frozenset()
