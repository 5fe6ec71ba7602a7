"""A world that changes between two nights, for incremental builds and what changed.

Night 1: five linked concepts over 400 articles (overlapping sets), each
category filter a different slice. Night 2 (``night_two``): ten new articles
linked to the first concept, four held records modified (new titles, and a
modification date of that night), a link removed from the third concept, and
a sixth concept asked for (its linked set partly new). Derived from the PMID
by arithmetic: the same world at every run.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.config import load_settings
from tests.fakes.dataset import Dataset, FakeConcept, parse_article, pubmed_article

FIRST = 60_000_001
ARTICLES = 400
UIDS = tuple(range(7_300_001, 7_300_007))
CUIS = tuple(f"C93{i:05d}" for i in range(1, 7))
NIGHT_ONE = CUIS[:5]
NIGHT_TWO = CUIS
# Night 2's changes.
NEW = tuple(range(FIRST + ARTICLES, FIRST + ARTICLES + 10))
MODIFIED = (FIRST + 5, FIRST + 77, FIRST + 150, FIRST + 333)
REMOVED = FIRST + 222  # linked to the third concept on night 1 only
SIXTH_ONLY = tuple(range(FIRST + ARTICLES + 10, FIRST + ARTICLES + 20))


def _article(pmid: int, title: str | None = None) -> str:
    n = pmid - FIRST
    return pubmed_article(
        pmid,
        year=1990 + n % 35,
        month=1 + n % 12,
        day=1 + n % 28,
        title=title or f"Finding number {n}.",
        authors=[("Roe", "Richard"), ("Doe", f"Jane {n % 5}")],
        doi=f"10.5555/night.{n:04d}",
        journal=("J Fake Med", "Mock Res Lett", "Stub Rev")[n % 3],
    )


def _links() -> dict[int, list[int]]:
    pmids = list(range(FIRST, FIRST + ARTICLES))
    return {
        UIDS[0]: pmids[0:160],
        UIDS[1]: pmids[100:260],
        UIDS[2]: pmids[200:330],
        UIDS[3]: pmids[300:400] + pmids[0:20],
        UIDS[4]: pmids[50:90],
        UIDS[5]: pmids[380:400] + list(SIXTH_ONLY),
    }


def night_one() -> Dataset:
    everything = [*range(FIRST, FIRST + ARTICLES), *NEW, *SIXTH_ONLY]
    categories = load_settings(env={}).categories
    filters = {
        c.term: [p for p in everything if (p - FIRST) % (i + 2) == 0 or (p - FIRST) % 7 == i]
        for i, c in enumerate(categories)
    }
    concepts = [
        FakeConcept(uid=uid, concept_id=cui, title=f"Night disorder {i}")
        for i, (uid, cui) in enumerate(zip(UIDS, CUIS, strict=True), start=1)
    ]
    articles = [_article(p) for p in range(FIRST, FIRST + ARTICLES)] + [
        _article(p) for p in SIXTH_ONLY
    ]
    return Dataset(concepts, articles, _links(), filters)


@dataclass(frozen=True)
class NightTwo:
    new: frozenset[int]  # linked PMIDs no record of which night 1 held
    modified: frozenset[int]


def night_two(world: Dataset, *, modified_on: tuple[int, int, int]) -> NightTwo:
    """Change ``world`` into night 2's; ``modified_on``: the modification date."""
    for pmid in NEW:
        world.articles[pmid] = parse_article(_article(pmid))
    world.links[str(UIDS[0])].extend(NEW)
    for pmid in MODIFIED:
        world.articles[pmid] = parse_article(_article(pmid, f"Finding {pmid}, corrected."))
        world.modified[pmid] = modified_on
    world.links[str(UIDS[2])].remove(REMOVED)
    return NightTwo(frozenset(NEW) | frozenset(SIXTH_ONLY), frozenset(MODIFIED))
